import t from 'tap';
import * as path from 'node:path';
import { redis, requireServer } from '../../helpers/db-servers.js';
import { instrument, memoryTracer } from '../../helpers/instrumentation-context.js';
import { ROOT } from '../../helpers/run-node.js';

// ioredis patched in-process (no loader), against the test Redis: the cases a fixture app cannot
// easily provoke. Each test patches and unpatches, so they do not leak into each other.
const Redis = require(path.join(ROOT, 'node_modules', 'ioredis6'));
const original = { sendCommand: Redis.prototype.sendCommand, exec: Redis.Pipeline.prototype.exec };

function patched(t: { teardown(fn: () => unknown): void }, config: Record<string, unknown> = {}) {
  const { tracer, exporter } = memoryTracer();
  const ioredis = instrument('ioredis', tracer, config);
  ioredis.patch(Redis);
  t.teardown(() => ioredis.undo());
  const request = tracer.startSpan('request');
  const inRequest = <T>(fn: () => T): T => {
    const scope = tracer.scopeManager.activate(request, false);
    try {
      return fn();
    } finally {
      scope.close();
    }
  };
  return { exporter, request, inRequest };
}

t.before(() => requireServer('Redis', redis.port));

t.test('a command sent before the connection is ready: one span, in the caller\'s trace', async (t) => {
  const { exporter, request, inRequest } = patched(t);
  const client = new Redis({ host: redis.host, port: redis.port, password: redis.password, lazyConnect: true });
  t.teardown(() => client.disconnect());
  // Queued offline, then re-sent by ioredis once ready, after AUTH and the INFO ready check.
  const reply = await inRequest(() => client.ping());
  t.equal(reply, 'PONG');
  const spans = exporter.getFinishedSpans();
  t.same(spans.map((s) => s.operationName), ['PING'], 'no span for the handshake, one for the command');
  t.equal(spans[0]?.parentSpanId, request.context().toSpanId());
});

t.test('input ioredis would reject is passed through untouched', async (t) => {
  patched(t);
  const client = new Redis({ host: redis.host, port: redis.port, password: redis.password, lazyConnect: true });
  t.teardown(() => client.disconnect());
  t.throws(() => client.sendCommand(null), TypeError, 'the same TypeError as without the agent');
});

t.test("the loader's undo restores the original functions", async (t) => {
  const ioredis = instrument('ioredis', memoryTracer().tracer);
  ioredis.patch(Redis);
  t.not(Redis.prototype.sendCommand, original.sendCommand);
  ioredis.undo();
  t.equal(Redis.prototype.sendCommand, original.sendCommand);
  t.equal(Redis.Pipeline.prototype.exec, original.exec);
});
