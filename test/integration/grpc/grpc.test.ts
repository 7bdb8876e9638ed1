// @grpc/grpc-js under the agent, the zero-code way: a fixture app (CJS and ESM) on the oldest (1.8) and
// newest (1.14) supported minor, with a real grpc-js server and client on loopback port 0, every call
// kind, errors, deadlines, cancels, unknown methods, and http -> grpc -> http chains, three at a time.
import t, { type Test } from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, startApp, type FixtureApp } from '../../helpers/fixture-app.js';

const VERSIONS = [
  { folder: 'grpc18', version: '1.8' },
  { folder: 'grpc114', version: '1.14' },
];
const OK = 0;
const CANCELLED = 1;
const UNKNOWN = 2;
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const FAILED_PRECONDITION = 9;
const UNIMPLEMENTED = 12;
const INTERNAL = 13;

interface Reply {
  callerTrace: string | null;
  callbackTrace?: string | null;
  eventTraces?: (string | null)[];
  error?: { code: number; details: string };
  result?: any;
  metadataKeys: Record<string, string>;
}

const traceOf = (traceparent: string | null | undefined): string | null => (traceparent ? traceparent.split('-')[1]! : null);

async function call(app: FixtureApp, query: string): Promise<Reply> {
  const r = await app.get(`/call?${query}`);
  if (r.status !== 200) throw new Error(`front answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as Reply;
}

function spansOf(collector: Collector, traceId: string | null): ReceivedSpan[] {
  return collector.spans.filter((s) => s.traceId === traceId);
}

function one(t: Test, spans: ReceivedSpan[], kind: number, name: string): ReceivedSpan {
  const found = spans.filter((s) => s.kind === kind && s.name === name);
  t.equal(found.length, 1, `one ${kind === 2 ? 'server' : 'client'} span ${name}`);
  return found[0]!;
}

for (const { folder, version } of VERSIONS) {
  for (const file of ['app.cjs', 'app.mjs']) {
    t.test(`@grpc/grpc-js ${version}, ${file}`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const app = await startApp(fixturePath('grpc', folder, file), { preserveSymlinks: true, env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_SERVICE_NAME: 'grpc-app', TRACING_PROPAGATION: 'tracecontext,baggage,b3' } });
      let stopped = false;
      const stop = async (): Promise<string> => {
        stopped = true;
        await app.stop();
        return app.stderr;
      };
      t.teardown(() => (stopped ? undefined : app.stop()));

      await t.test('unary: three concurrent calls, each its own trace from the front to the downstream server', async (t) => {
        const replies = await Promise.all([1, 2, 3].map((i) => call(app, `kind=unary&text=hello${i}&user=u${i}`)));
        const traces = new Set(replies.map((r) => r.callerTrace));
        t.equal(traces.size, 3, 'three traces');
        for (const [i, r] of replies.entries()) {
          const trace = r.callerTrace!;
          t.equal(traceOf(r.result.traceparent), trace, 'the server got the caller\'s trace in its metadata');
          t.equal(r.result.user, `u${i + 1}`, 'the user\'s metadata was kept');
          t.equal(r.result.b3?.split('-')[0], trace, 'every configured format is injected (b3 too)');
          t.equal(r.result.handlerTrace, trace, 'the handler ran in the server span\'s trace');
          t.equal(r.result.afterAwait, trace, '... also after an await');
          t.equal(traceOf(r.result.down.traceparent), trace, 'the downstream HTTP call carries it on');
          t.equal(r.callbackTrace, trace, 'the client callback ran in the caller\'s context');
          t.notOk('traceparent' in r.metadataKeys, 'the caller\'s own Metadata object was not changed');
          // front server, gRPC client, gRPC server, downstream client and server
          const spans = await waitForTrace(collector, trace, 5);
          const front = spans.find((s) => s.parentSpanId === '')!;
          t.match(front, { kind: 2, name: 'GET' }, 'the front server span is the root');
          const client = one(t, spans, 3, 'demo.v1.Echo/Unary');
          const server = one(t, spans, 2, 'demo.v1.Echo/Unary');
          const down = spans.find((s) => s.kind === 3 && s.parentSpanId === server.spanId);
          t.equal(client.parentSpanId, front.spanId);
          t.equal(server.parentSpanId, client.spanId, 'the server span is the client span\'s child');
          t.ok(down, 'the downstream client span is the server span\'s child');
          t.match(client.attributes, { 'rpc.system': 'grpc', 'rpc.service': 'demo.v1.Echo', 'rpc.method': 'Unary', 'rpc.grpc.status_code': OK, 'peer.hostname': '127.0.0.1', component: 'grpc' });
          t.ok(typeof client.attributes['peer.port'] === 'number');
          t.match(server.attributes, { 'rpc.system': 'grpc', 'rpc.service': 'demo.v1.Echo', 'rpc.method': 'Unary', 'rpc.grpc.status_code': OK, 'peer.ipv4': '127.0.0.1' });
          t.equal(client.status.code, 0);
          t.equal(server.status.code, 0);
        }
      });

      await t.test('a stub from makeGenericClientConstructor is traced the same way', async (t) => {
        const r = await call(app, 'kind=unary&stub=generic');
        t.equal(traceOf(r.result.traceparent), r.callerTrace);
        const spans = await waitForTrace(collector, r.callerTrace!, 5);
        one(t, spans, 3, 'demo.v1.Echo/Unary');
      });

      await t.test('client streaming: stream events in the server span, the callback in the caller\'s context', async (t) => {
        const replies = await Promise.all([1, 2, 3].map((i) => call(app, `kind=collect&text=a${i},b${i},c${i}`)));
        for (const r of replies) {
          const trace = r.callerTrace!;
          t.same(r.result.parts.length, 3);
          t.equal(traceOf(r.result.traceparent), trace);
          t.same(r.result.dataTraces, [trace, trace, trace], "'data' listeners ran in the server span's trace");
          t.equal(r.result.endTrace, trace, "so did 'end'");
          t.equal(traceOf(r.result.down.traceparent), trace);
          t.equal(r.callbackTrace, trace);
          const spans = await waitForTrace(collector, trace, 5);
          const client = one(t, spans, 3, 'demo.v1.Echo/Collect');
          const server = one(t, spans, 2, 'demo.v1.Echo/Collect');
          t.equal(server.parentSpanId, client.spanId);
        }
      });

      await t.test('server streaming: every event in the caller\'s context; the span ends with the stream', async (t) => {
        const replies = await Promise.all([1, 2, 3].map(() => call(app, 'kind=repeat')));
        for (const r of replies) {
          const trace = r.callerTrace!;
          t.equal(r.result.length, 3);
          t.ok(r.result.every((m: any) => m.writeTrace === trace && traceOf(m.traceparent) === trace), 'the handler wrote in its trace');
          t.equal(traceOf(r.result[2].down.traceparent), trace);
          t.same(r.eventTraces, [trace, trace, trace, trace], "'data' and 'end' ran in the caller's context");
          const spans = await waitForTrace(collector, trace, 5);
          const client = one(t, spans, 3, 'demo.v1.Echo/Repeat');
          const server = one(t, spans, 2, 'demo.v1.Echo/Repeat');
          t.equal(server.parentSpanId, client.spanId);
          t.equal(client.attributes['rpc.grpc.status_code'], OK);
          t.equal(server.attributes['rpc.grpc.status_code'], OK, 'a stream that ended normally is OK (not the cancel grpc-js 1.10+ reports after it)');
          t.equal(server.status.code, 0);
          t.ok(BigInt(client.endTimeUnixNano) >= BigInt(spans.find((s) => s.kind === 3 && s.name === 'GET' && s.parentSpanId === server.spanId)!.endTimeUnixNano), 'the client span lasts until the stream ended');
        }
      });

      await t.test('bidi streaming', async (t) => {
        const replies = await Promise.all([1, 2, 3].map((i) => call(app, `kind=chat&text=x${i},y${i}`)));
        for (const r of replies) {
          const trace = r.callerTrace!;
          t.equal(r.result.length, 2);
          t.ok(r.result.every((m: any) => m.dataTrace === trace && traceOf(m.traceparent) === trace), "the server's 'data' listener ran in its trace");
          t.same(r.eventTraces, [trace, trace, trace]);
          const spans = await waitForTrace(collector, trace, 3);
          const server = one(t, spans, 2, 'demo.v1.Echo/Chat');
          t.equal(server.parentSpanId, one(t, spans, 3, 'demo.v1.Echo/Chat').spanId);
          t.equal(server.attributes['rpc.grpc.status_code'], OK);
        }
      });

      await t.test('errors: a client span is an error for any non-OK code, a server span only for server faults', async (t) => {
        const invalid = await call(app, 'kind=unary&text=invalid');
        const internal = await call(app, 'kind=unary&text=internal');
        const thrown = await call(app, 'kind=unary&text=throw');
        const streamFail = await call(app, 'kind=repeat&text=fail');
        t.equal(invalid.error?.code, INVALID_ARGUMENT);
        t.equal(internal.error?.code, INTERNAL);
        // grpc-js answers a thrown handler with INTERNAL before 1.10, UNKNOWN since; the spans say what was sent.
        t.equal(thrown.error?.code, version === '1.8' ? INTERNAL : UNKNOWN);
        t.equal(streamFail.error?.code, FAILED_PRECONDITION);
        const check = async (r: Reply, name: string, code: number, serverError: boolean): Promise<void> => {
          const spans = await waitForTrace(collector, r.callerTrace!, 3);
          const client = one(t, spans, 3, name);
          const server = one(t, spans, 2, name);
          t.equal(client.attributes['rpc.grpc.status_code'], code);
          t.equal(client.status.code, 2, `${name} ${code}: client error`);
          t.equal(server.attributes['rpc.grpc.status_code'], code);
          t.equal(server.status.code, serverError ? 2 : 0, `${name} ${code}: server ${serverError ? 'error' : 'not an error'}`);
        };
        await check(invalid, 'demo.v1.Echo/Unary', INVALID_ARGUMENT, false);
        await check(internal, 'demo.v1.Echo/Unary', INTERNAL, true);
        await check(thrown, 'demo.v1.Echo/Unary', thrown.error!.code, true);
        await check(streamFail, 'demo.v1.Echo/Repeat', FAILED_PRECONDITION, false);
        t.equal(invalid.callbackTrace, invalid.callerTrace, 'the error callback too runs in the caller\'s context');
      });

      await t.test('deadlines and cancels are recorded, the spans end once', async (t) => {
        const late = await call(app, 'kind=unary&text=slow300&deadline=50');
        t.equal(late.error?.code, DEADLINE_EXCEEDED);
        const cancelled = await call(app, 'kind=unary-cancel');
        t.equal(cancelled.error?.code, CANCELLED);
        const endless = await call(app, 'kind=repeat&text=endless');
        t.equal(endless.error?.code, CANCELLED);
        const lateSpans = await waitForTrace(collector, late.callerTrace!, 3);
        const lateClient = one(t, lateSpans, 3, 'demo.v1.Echo/Unary');
        t.equal(lateClient.attributes['rpc.grpc.status_code'], DEADLINE_EXCEEDED);
        t.ok(typeof lateClient.attributes['rpc.grpc.deadline_ms'] === 'number', 'the deadline is recorded');
        t.equal(lateClient.status.code, 2);
        const lateServer = one(t, lateSpans, 2, 'demo.v1.Echo/Unary');
        t.ok([DEADLINE_EXCEEDED, CANCELLED, OK].includes(lateServer.attributes['rpc.grpc.status_code'] as number), `server saw ${lateServer.attributes['rpc.grpc.status_code']}`);
        for (const [r, name] of [[cancelled, 'demo.v1.Echo/Unary'], [endless, 'demo.v1.Echo/Repeat']] as const) {
          const spans = await waitForTrace(collector, r.callerTrace!, 3);
          const client = one(t, spans, 3, name);
          t.equal(client.attributes['rpc.grpc.status_code'], CANCELLED);
          t.equal(client.status.code, 2);
          const server = one(t, spans, 2, name);
          t.equal(server.attributes['rpc.grpc.status_code'], CANCELLED, 'the server span ends on the cancel');
          t.equal(server.status.code, 0, 'a cancel is not a server error');
        }
      });

      await t.test('an unknown method: UNIMPLEMENTED on both sides, in the caller\'s trace', async (t) => {
        const r = await call(app, 'kind=unknown');
        t.equal(r.error?.code, UNIMPLEMENTED);
        const spans = await waitForTrace(collector, r.callerTrace!, 3);
        const client = one(t, spans, 3, 'demo.v1.Echo/Nope');
        const server = one(t, spans, 2, 'demo.v1.Echo/Nope');
        t.equal(server.parentSpanId, client.spanId);
        t.equal(server.attributes['rpc.grpc.status_code'], UNIMPLEMENTED);
        t.equal(server.status.code, 2);
      });

      const stderr = await stop();
      t.equal(stderr, '', 'nothing on stderr');
      const ids = collector.spans.map((s) => s.spanId);
      t.equal(new Set(ids).size, ids.length, 'no span exported twice (none ended twice)');
    });
  }
}

t.test('TRACING_DISABLED_INSTRUMENTATIONS=grpc: no gRPC spans, no metadata, the app works', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const app = await startApp(fixturePath('grpc', 'grpc114', 'app.cjs'), { preserveSymlinks: true, env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_DISABLED_INSTRUMENTATIONS: 'grpc' } });
  const r = await call(app, 'kind=unary');
  t.equal(r.result.traceparent, null);
  t.equal(r.result.user, 'anon');
  await app.stop();
  t.notOk(collector.spans.some((s) => s.name.startsWith('demo.v1.Echo')));
});

async function waitForTrace(collector: Collector, traceId: string, count: number, timeoutMs = 5000): Promise<ReceivedSpan[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const spans = spansOf(collector, traceId);
    if (spans.length >= count || Date.now() > until) return spans;
    await new Promise((r) => setTimeout(r, 20));
  }
}
