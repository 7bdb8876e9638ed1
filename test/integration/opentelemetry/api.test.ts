// The OpenTelemetry API served by the agent, as its users write against it (trace, context,
// propagation), in a CommonJS and an ES-module app under `--import register.mjs`: what the code sees
// in-process, and the spans the agent exports (OTLP to an in-test collector). Also: three concurrent
// requests keep their own traces, the bridge can be switched off, and an SDK the app registers wins.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, send, startApp, type FixtureApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf, traceOf } from '../../helpers/traces.js';

interface Downstream {
  port: number;
  close(): void;
}

/** Answers with the trace headers it received, so the app can report what it sent. */
async function startDownstream(): Promise<Downstream> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ traceparent: req.headers.traceparent ?? null, baggage: req.headers.baggage ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

async function ask(app: FixtureApp, path: string, headers: Record<string, string> = {}): Promise<any> {
  const reply = await send(app.ports.front!, { path, headers });
  if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body);
}

const byName = (spans: readonly ReceivedSpan[], name: string) => spans.find((s) => s.name === name);
const ENV = { TRACING_EXPORTER: 'otlp', TRACING_BATCH_DELAY_MS: '50', TRACING_SERVICE_NAME: 'otel-api' };

t.test('the OpenTelemetry API under the agent', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const downstream = await startDownstream();
  t.teardown(() => downstream.close());

  for (const file of ['app.cjs', 'app.mjs']) {
    t.test(file, async (t) => {
      const app = await startApp(fixturePath('opentelemetry', file), { env: { ...ENV, TRACING_ENDPOINT: collector.otlpUrl, DOWNSTREAM_PORT: String(downstream.port) } });
      let stopped = false;
      t.teardown(async () => {
        if (!stopped) await app.stop();
      });

      t.test('three concurrent requests: nested and async spans, each in its own trace', async (t) => {
        const traceIds = [newTraceId(), newTraceId(), newTraceId()];
        const seen = await Promise.all(traceIds.map((id, i) => ask(app, `/work?tenant=t${i}`, { traceparent: `00-${id}-00f067aa0ba902b7-01` })));
        for (let i = 0; i < 3; i++) {
          const saw = seen[i];
          const spans = await traceOf(collector, traceIds[i]!, 4);
          const server = spans.find((s) => s.kind === KIND.server);
          const work = byName(spans, 'work-renamed');
          const child = byName(spans, 'child');
          const client = spans.find((s) => s.kind === KIND.client && s.attributes.component === 'fetch');
          t.ok(server && work && child && client, `request ${i}: server, work, child and fetch spans in its trace`, { names: spans.map((s) => s.name) });
          t.equal(saw.server, server?.spanId, 'trace.getActiveSpan() in the request is our server span');
          t.equal(server?.attributes['app.tenant'], `t${i}`, 'setAttribute on it lands on our server span');
          t.equal(work?.spanId, saw.work, 'the OTel span is exported under its id');
          t.equal(work?.parentSpanId, server?.spanId, 'an OTel span started in our server span is its child');
          t.equal(child?.parentSpanId, work?.spanId, 'startSpan after awaits: a child of the active OTel span');
          t.equal(client?.parentSpanId, work?.spanId, 'our fetch client span inside startActiveSpan is its child');
          t.match(saw.down.traceparent, new RegExp(`^00-${traceIds[i]}-${client?.spanId}-0[13]$`), 'downstream got this request\'s trace and our client span');
          t.ok(saw.activeIsWork, 'getActiveSpan() inside startActiveSpan is that span, after an await');
          t.notOk(saw.recordingAfterEnd, 'isRecording() is false once ended');
        }
        const spans = await traceOf(collector, traceIds[0]!, 4);
        const work = byName(spans, 'work-renamed')!;
        t.equal(work.kind, 1, 'kind INTERNAL');
        t.same(work.scope, { name: 'fixture-scope', version: '1.0.0' }, 'exported under its instrumentation scope');
        t.same(
          { str: work.attributes['a.str'], int: work.attributes['a.int'], double: work.attributes['a.double'], bool: work.attributes['a.bool'] },
          { str: 's', int: 42, double: 1.5, bool: true },
          'scalar attributes keep their types',
        );
        t.same(work.attributes['a.strs'], ['x', 'y'], 'string array');
        t.same(work.attributes['a.ints'], [1, 2, 3], 'number array');
        t.same(work.attributes['a.bools'], [true, false], 'boolean array');
        t.same(work.attributes['a.holes'], ['p', null, 'q'], 'array with a hole');
        t.same(work.events.map((e) => [e.name, e.attributes['step.n']]), [['step', 1]], 'addEvent → an event with its attributes');
        t.same(work.links.map((l) => [l.traceId, l.spanId, l.attributes['link.why']]), [['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 'batch']], 'links with attributes');
        const child = byName(spans, 'child')!;
        t.equal(child.kind, KIND.client, 'kind CLIENT');
        t.equal(child.attributes['child.n'], 7, 'setAttributes');
        const ours = spans.find((s) => s.kind === KIND.server)!;
        t.equal(ours.scope.name, '@acme/tracing-agent', 'our own spans stay under our scope in the same export');
      });

      t.test('exceptions and status', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/error', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
        const spans = await traceOf(collector, traceId, 3);
        const failing = spans.find((s) => s.spanId === saw.failing);
        t.equal(failing?.status.code, 2, 'setStatus(ERROR) → status ERROR');
        t.equal(failing?.status.message, 'nope', 'with its message');
        const exception = failing?.events.find((e) => e.name === 'exception');
        t.equal(exception?.attributes['exception.type'], 'TypeError', 'recordException: exception.type');
        t.equal(exception?.attributes['exception.message'], 'nope', 'exception.message');
        t.match(String(exception?.attributes['exception.stacktrace']), /TypeError: nope/, 'exception.stacktrace');
        const fine = spans.find((s) => s.spanId === saw.fine);
        t.equal(fine?.status.code, 1, 'setStatus(OK) → status OK, and OK is final');
      });

      t.test('propagation: inject, extract, baggage both ways', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/propagation', { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, baggage: 'user=alice' });
        t.match(saw.injected.traceparent, new RegExp(`^00-${traceId}-${saw.server}-0[13]$`), 'propagation.inject(context.active()) writes our server span');
        t.equal(saw.incomingBaggage, 'alice', 'incoming baggage is OpenTelemetry baggage in the request');
        t.equal(saw.fromRemote.span.traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'a span under an extracted context joins that trace');
        t.equal(saw.fromRemote.baggage, 'v1', 'extracted baggage is in the context');
        const remote = await traceOf(collector, '4bf92f3577b34da6a3ce929d0e0e4736', 1);
        t.equal(byName(remote, 'from-remote')?.parentSpanId, '00f067aa0ba902b7', 'its parent is the extracted span');
        const spans = await traceOf(collector, traceId, 2);
        const client = spans.find((s) => s.kind === KIND.client);
        t.match(saw.down.traceparent, new RegExp(`^00-${traceId}-${client?.spanId}-0[13]$`), 'context.with(ctx, fetch): our client span, in the request\'s trace');
        t.same(String(saw.down.baggage).split(',').sort(), ['added=yes', 'user=alice'], 'baggage set through OpenTelemetry reaches the downstream service');
      });

      t.test('suppressTracing: no span, no client span, no header', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/suppressed', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
        t.equal(saw.recording, false, 'startSpan gives a non-recording span');
        t.same(saw.down, { traceparent: null, baggage: null }, 'fetch sends no trace header');
        await traceOf(collector, traceId, 1);
        await new Promise((resolve) => setTimeout(resolve, 300));
        t.same([...new Set(spansOf(collector.spans, traceId).map((s) => s.kind))], [KIND.server], 'only the server span is exported');
        t.notOk(collector.spans.some((s) => s.name === 'hidden'), 'the suppressed OTel span is not exported');
      });

      t.test('ROOT_CONTEXT and root: true start new traces', async (t) => {
        const saw = await ask(app, '/root');
        t.ok(saw.noActive, 'no active span under ROOT_CONTEXT');
        for (const name of ['detached', 'rooted'] as const) {
          const spans = await traceOf(collector, saw[name].traceId, 1);
          t.equal(byName(spans, name)?.parentSpanId, '', `${name}: a root span of a new trace`);
        }
      });

      t.test('explicit start, event and end times', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/times', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
        const spans = await traceOf(collector, traceId, 2);
        const timed = spans.find((s) => s.spanId === saw.span);
        t.equal(timed?.startTimeUnixNano, '1700000000000000000', 'startTime from a Date');
        t.equal(timed?.endTimeUnixNano, '1700000001250000000', 'end time from an HrTime');
        t.equal(timed?.events[0]?.timeUnixNano, '1700000000500000000', 'event time from a Date');
      });

      t.test('an unsampled trace: spans carry the context and record nothing', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/unsampled', { traceparent: `00-${traceId}-00f067aa0ba902b7-00` });
        t.same(saw, { serverRecording: false, innerRecording: false, innerFlags: 0, traceId }, 'not recording, not sampled, same trace');
        await new Promise((resolve) => setTimeout(resolve, 300));
        t.same(spansOf(collector.spans, traceId), [], 'nothing exported');
      });

      t.test('Next.js\'s compiled copy of the API in the same process', async (t) => {
        const traceId = newTraceId();
        const saw = await ask(app, '/compiled', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
        t.equal(saw.active, saw.server, 'its getActiveSpan() is our server span too');
        const spans = await traceOf(collector, traceId, 2);
        const span = byName(spans, 'compiled-span');
        t.equal(span?.parentSpanId, saw.server, 'its span is a child of our server span');
        t.same(span?.scope, { name: 'compiled-copy', version: '0.0.1' }, 'under its own scope');
      });

      t.test('context.bind', async (t) => {
        const saw = await ask(app, '/bind');
        t.equal(saw.seen, saw.binder, 'a bound callback runs in its context, called from another');
      });

      t.test('the registered provider', async (t) => {
        const saw = await ask(app, '/provider');
        t.equal(saw.delegate, 'BridgeTracerProvider', 'the API delegates to the agent');
      });

      t.test('stops cleanly', async (t) => {
        stopped = true;
        t.equal((await app.stop()).code, 0, 'exit code 0');
        t.notMatch(app.stderr, /\[tracing-agent\] (warn|error)/, 'no agent warning', { stderr: app.stderr });
      });
    });
  }
});

t.test('TRACING_DISABLED_INSTRUMENTATIONS=opentelemetry switches the bridge off', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const downstream = await startDownstream();
  t.teardown(() => downstream.close());
  const app = await startApp(fixturePath('opentelemetry', 'app.cjs'), {
    env: { ...ENV, TRACING_ENDPOINT: collector.otlpUrl, DOWNSTREAM_PORT: String(downstream.port), TRACING_DISABLED_INSTRUMENTATIONS: 'opentelemetry' },
  });
  const traceId = newTraceId();
  const saw = await ask(app, '/provider', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  t.not(saw.delegate, 'BridgeTracerProvider', 'the API keeps its no-op provider');
  t.equal(saw.active, null, 'no active span seen through the API');
  const work = await ask(app, '/work', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  t.equal((await app.stop()).code, 0);
  const spans = await traceOf(collector, traceId, 3);
  t.notOk(byName(spans, 'work-renamed'), 'OTel spans are not exported');
  t.ok(spans.some((s) => s.kind === KIND.client && s.attributes.component === 'fetch'), 'our own instrumentations still trace the request');
  t.ok(work.down.traceparent, 'and propagate');
});

for (const [when, late, said] of [['at start-up', '0', /an OpenTelemetry SDK is registered: it stays in charge/], ['after the agent registered', '1', /registered its own OpenTelemetry SDK/]] as const) t.test(`an SDK the app registers ${when} is in charge of OpenTelemetry spans`, async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const app = await startApp(fixturePath('opentelemetry', 'sdk-app.cjs'), { env: { ...ENV, TRACING_ENDPOINT: collector.otlpUrl, TRACING_LOG_LEVEL: 'info', SDK_LATE: late } });
  const traceId = newTraceId();
  const saw = await ask(app, '/', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  t.equal((await app.stop()).code, 0, 'the app exits 0');
  t.same(saw.sdkSpans, ['sdk-span'], 'the span went to the app\'s SDK');
  t.equal(saw.delegate, 'NodeTracerProvider', 'the API delegates to the app\'s provider');
  t.same(saw.diagErrors, [], 'the SDK registered without an error');
  const spans = await traceOf(collector, traceId, 1);
  t.notOk(byName(spans, 'sdk-span'), 'the agent did not export it');
  t.ok(spans.some((s) => s.kind === KIND.server), 'the agent still traces the request');
  const lines = app.stderr.split('\n').filter((l) => /OpenTelemetry SDK/.test(l));
  t.match(lines[0], said, 'the agent says why');
  t.equal(lines.length, 1, 'said once, at info level', { stderr: app.stderr });
});
