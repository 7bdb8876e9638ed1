// BullMQ emits OpenTelemetry spans itself (with bullmq-otel); under the agent they join the trace of
// the request that added the job, against the test Redis: the producer span under our server span, the
// worker's consumer span under it (context carried in the job), our fetch client span inside the job,
// and the downstream call in that trace. Three concurrent requests, in a CommonJS and an ES-module app.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { redis } from '../../helpers/db-servers.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { ancestors, KIND, newTraceId, traceOf } from '../../helpers/traces.js';

const CALLER = '00f067aa0ba902b7';
const PRODUCER = 4;
const CONSUMER = 5;

t.test('BullMQ\'s OpenTelemetry spans join the request\'s trace', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const received: string[] = [];
  const downstream = http.createServer((req, res) => {
    received.push(String(req.headers.traceparent));
    res.end(JSON.stringify({ traceparent: req.headers.traceparent ?? null }));
  });
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => downstream.close());

  for (const file of ['app.cjs', 'app.mjs']) {
    t.test(file, async (t) => {
      const app = await startApp(fixturePath('bullmq', file), {
        readyTimeoutMs: 30_000,
        env: {
          TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50',
          REDIS_PORT: String(redis.port), REDIS_PASSWORD: redis.password, DOWNSTREAM_PORT: String((downstream.address() as AddressInfo).port),
        },
      });
      const traceIds = [newTraceId(), newTraceId(), newTraceId()];
      const replies = await Promise.all(traceIds.map((id, i) => send(app.ports.front!, { path: `/enqueue?n=${i}`, headers: { traceparent: `00-${id}-${CALLER}-01` } })));
      for (const [i, traceId] of traceIds.entries()) {
        t.equal(replies[i]!.status, 200, `request ${i} answers once its job is done`, { body: replies[i]!.body });
        const isFetch = (s: ReceivedSpan) => s.kind === KIND.client && s.attributes.component === 'fetch';
        // Every span the checks below read: the server span ends when the response is written, which can be
        // after the job's spans went out in an earlier batch.
        const spans = await traceOf(collector, traceId, (s) => s.some(isFetch) && s.some((x) => x.kind === CONSUMER)
          && s.some((x) => x.kind === PRODUCER) && s.some((x) => x.kind === KIND.server) && s.some((x) => x.attributes['db.type'] === 'redis'));
        const names = spans.map((s) => `${s.scope.name} ${s.kind} ${s.name}`);
        const server = spans.find((s) => s.kind === KIND.server);
        const producer = spans.find((s) => s.kind === PRODUCER && s.scope.name === 'bullmq-fixture');
        const consumer = spans.find((s) => s.kind === CONSUMER && s.scope.name === 'bullmq-fixture');
        const client = spans.find(isFetch);
        t.equal(server?.parentSpanId, CALLER, `request ${i}: our server span continues the caller's trace`, { names });
        t.ok(producer && ancestors(spans, producer).includes(server!.spanId), `request ${i}: BullMQ's producer span descends from our server span`, { names });
        t.ok(consumer && ancestors(spans, consumer).includes(producer!.spanId), `request ${i}: the worker's consumer span descends from the producer span`, { names });
        t.ok(client && ancestors(spans, client).includes(consumer!.spanId), `request ${i}: our fetch client span inside the job descends from the consumer span`, { names });
        const down = JSON.parse(replies[i]!.body).down as { traceparent: string };
        t.equal(down.traceparent, `00-${traceId}-${client?.spanId}-${down.traceparent.slice(-2)}`, `request ${i}: the downstream service got this request's trace`);
        const redisSpans = spans.filter((s) => s.attributes['db.type'] === 'redis');
        t.ok(redisSpans.length > 0 && redisSpans.every((s) => ancestors(spans, s).includes(server!.spanId)), `request ${i}: our Redis command spans of the job are in the trace too`, { names });
      }
      t.equal((await app.stop()).code, 0, 'the app exits 0');
      t.notMatch(app.stderr, /\[tracing-agent\] (warn|error)/, 'no agent warning', { stderr: app.stderr });
    });
  }
});
