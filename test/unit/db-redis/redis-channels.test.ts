import t from 'tap';
import dc from 'node:diagnostics_channel';
import { startChannels, stopChannels } from '../../../instrumentations/redis/channels.js';
import { instrument, memoryTracer } from '../../helpers/instrumentation-context.js';

// The @redis/client ≥ 5.12 path, driven by the same tracing channels the library publishes on, so each
// event order (async reply, async error, synchronous throw, pipeline) is checked without a server.
const command = dc.tracingChannel('node-redis:command');
const batch = dc.tracingChannel('node-redis:batch');

function setup(t: { teardown(fn: () => void): void }, env: Record<string, string> = {}) {
  const { tracer, exporter } = memoryTracer();
  // The agent-wide database settings (TRACING_DB_*), as the loader builds them.
  const redis = instrument('redis', tracer, {}, env);
  startChannels(redis.ctx);
  t.teardown(() => {
    stopChannels();
    redis.undo();
  });
  const parent = tracer.startSpan('request');
  const inRequest = <T>(fn: () => T): T => {
    const scope = tracer.scopeManager.activate(parent, false);
    try {
      return fn();
    } finally {
      scope.close();
    }
  };
  return { exporter, parent, inRequest };
}

const where = { database: 2, serverAddress: '127.0.0.1', serverPort: 6380 };

t.test('a command: one span under the active one, finished when its promise settles', async (t) => {
  const { exporter, parent, inRequest } = setup(t);
  let reply!: (v: unknown) => void;
  const pending = inRequest(() => command.tracePromise(() => new Promise((r) => (reply = r)), { command: 'GET', args: ['GET', 'k'], ...where }));
  t.equal(exporter.getFinishedSpans().length, 0, 'open while the reply is pending');
  reply('v');
  t.equal(await pending, 'v');
  const [span] = exporter.getFinishedSpans();
  t.equal(span?.operationName, 'GET');
  t.equal(span?.parentSpanId, parent.context().toSpanId(), 'child of the active span');
  t.same(
    { ...span?.tags },
    { 'span.kind': 'client', component: 'redis', 'db.type': 'redis', 'db.instance': 2, 'db.statement': 'GET k', 'peer.hostname': '127.0.0.1', 'peer.port': 6380 },
  );
});

t.test('an error reply and a synchronous throw both end the span with the error', async (t) => {
  const { exporter, inRequest } = setup(t);
  const replyError = Object.assign(new Error('WRONGTYPE'), { code: 'WRONGTYPE' });
  await t.rejects(inRequest(() => command.tracePromise(() => Promise.reject(replyError), { command: 'INCR', args: ['INCR', 'k'], ...where })), replyError);
  const thrown = new Error('closed');
  t.throws(() => inRequest(() => command.tracePromise(() => { throw thrown; }, { command: 'GET', args: ['GET', 'k'], ...where })), thrown);
  const spans = exporter.getFinishedSpans();
  t.same(spans.map((s) => [s.operationName, s.tags.error, s.tags['db.error.code']]), [['INCR', true, 'WRONGTYPE'], ['GET', true, undefined]]);
});

t.test('a pipeline: one span with its length and its commands as the statement, none per command', async (t) => {
  const { exporter, inRequest } = setup(t);
  await inRequest(() => batch.tracePromise(async () => {
    const sent = [['SET', 'a', 'secret'], ['GET', 'a']].map((args) =>
      command.tracePromise(() => Promise.resolve('ok'), { command: args[0], args: [args[0], args[1], '?'], batchMode: 'PIPELINE', batchSize: 2, ...where }));
    return Promise.all(sent);
  }, { batchMode: 'PIPELINE', batchSize: 2, ...where }));
  const spans = exporter.getFinishedSpans();
  t.same(spans.map((s) => s.operationName), ['PIPELINE']);
  t.equal(spans[0]?.tags['db.redis.pipeline_length'], 2);
  t.equal(spans[0]?.tags['db.statement'], 'SET a\nGET a');
});

t.test('a MULTI whose command failed inside is marked failed', async (t) => {
  const { exporter, inRequest } = setup(t);
  await inRequest(() => batch.tracePromise(() => Promise.resolve(['OK', new Error('ERR not an integer')]), { batchMode: 'MULTI', batchSize: 2, ...where }));
  const [span] = exporter.getFinishedSpans();
  t.equal(span?.operationName, 'MULTI');
  t.equal(span?.tags.error, true);
});

t.test('outside a trace: no span, unless root spans are on', async (t) => {
  const { exporter } = setup(t);
  await command.tracePromise(() => Promise.resolve('v'), { command: 'GET', args: ['GET', 'k'], ...where });
  t.equal(exporter.getFinishedSpans().length, 0);
  stopChannels();
  const rooted = setup(t, { TRACING_DB_ROOT_SPANS: 'true' });
  await command.tracePromise(() => Promise.resolve('v'), { command: 'GET', args: ['GET', 'k'], ...where });
  t.equal(rooted.exporter.getFinishedSpans().length, 1);
});
