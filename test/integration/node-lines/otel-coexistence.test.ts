// Another agent in the same process: OpenTelemetry's zero-code entry
// (`--import @opentelemetry/auto-instrumentations-node/register`) next to ours, in both orders, with an
// express app as CommonJS and as an ES module. The app must start and serve exactly as without any
// agent, and our instrumentations (http server, express, fetch, http client) must still produce one
// connected trace. OpenTelemetry exports to a port nothing listens on, so its failing exporter is part
// of the test. Runs on the Node running the tests: `npm test` covers 20, `npm run test:node-lines`
// starts this file under 22, 24 and 26. What each order does is written up in docs/loader.md.
import t from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';
import { downEndpoint, startDownstream, type Downstream } from './servers.js';

const OTEL = ['--import', '@opentelemetry/auto-instrumentations-node/register'];
const OURS = ['--import', './register.mjs'];
// The fixture folder links node_modules/express to the root's express5 alias; these flags keep that
// path, so the app loads "express" by that name, as a user's app does.
const SYMLINKS = ['--preserve-symlinks', '--preserve-symlinks-main'];
const CALLER_SPAN = '00f067aa0ba902b7';

const ORDERS = [
  { name: 'ours first, then OpenTelemetry', preload: [...SYMLINKS, ...OURS, ...OTEL], oursFirst: true },
  { name: 'OpenTelemetry first, then ours', preload: [...SYMLINKS, ...OTEL, ...OURS], oursFirst: false },
];

interface Served {
  hello: { status: number; body: string };
  call: { status: number; body: string };
  stderr: string;
  code: number | null;
}

/** Starts the app with the given preloads, asks /hello/x and /call once, then lets it end. */
async function serve(app: string, preload: string[], env: NodeJS.ProcessEnv, traceparent: string): Promise<Served> {
  const running = await startApp(fixturePath('node-lines', 'express', app), { agent: false, nodeArgs: preload, env, lifetimeMs: 30_000 });
  const hello = await send(running.port, { path: '/hello/x' });
  const call = await send(running.port, { path: '/call', headers: { traceparent } });
  await send(running.port, { path: '/shutdown' });
  const exit = await running.exited;
  return { hello: { status: hello.status, body: hello.body }, call: { status: call.status, body: call.body }, stderr: running.stderr, code: exit.code };
}

/** Waits (bounded) until the collector holds `count` spans of the trace; the app flushed at exit, so usually at once. */
async function untilTraceHas(collector: Collector, traceId: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (spansOf(collector.spans, traceId).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

function one(spans: readonly ReceivedSpan[], pick: (s: ReceivedSpan) => boolean): ReceivedSpan | undefined {
  const found = spans.filter(pick);
  return found.length === 1 ? found[0] : undefined;
}

t.test('OpenTelemetry\'s auto-instrumentations and ours in one process', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const otelDown = await downEndpoint();
  t.teardown(() => otelDown.close());
  const otelEndpoint = otelDown.url;

  for (const app of ['app.cjs', 'app.mjs']) {
    t.test(app, async (t) => {
      const baselineDownstream = await startDownstream();
      t.teardown(() => baselineDownstream.close());
      const baseline = await serve(app, SYMLINKS, { DOWNSTREAM_PORT: String(baselineDownstream.port) }, `00-${newTraceId()}-${CALLER_SPAN}-01`);
      t.equal(baseline.code, 0, 'without any agent: the app runs and exits 0', { stderr: baseline.stderr });

      for (const order of ORDERS) {
        t.test(order.name, async (t) => {
          const downstream: Downstream = await startDownstream();
          t.teardown(() => downstream.close());
          const traceId = newTraceId();
          const served = await serve(app, order.preload, {
            DOWNSTREAM_PORT: String(downstream.port),
            TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_SERVICE_NAME: 'ours', TRACING_BATCH_DELAY_MS: '50',
            OTEL_SERVICE_NAME: 'otel', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otelEndpoint}/v1/traces`,
            OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none',
            // OpenTelemetry's exporter holds the exit for up to its timeout (10 s by default) when its
            // endpoint is down; bounded here to keep the suite short.
            OTEL_EXPORTER_OTLP_TIMEOUT: '500',
            // The cloud detectors probe metadata addresses and warn when they are missing: OpenTelemetry's
            // noise, not what this test is about.
            OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
          }, `00-${traceId}-${CALLER_SPAN}-01`);

          t.equal(served.code, 0, 'the app exits by itself with code 0', { stderr: served.stderr });
          t.same(served.hello, baseline.hello, 'GET /hello/x answers exactly as without any agent');
          t.same(served.call, baseline.call, 'GET /call answers exactly as without any agent');
          t.notMatch(served.stderr, /\[tracing-agent\]/, 'our agent logged nothing');
          t.notMatch(served.stderr, /Error|Warning/, 'nothing on stderr looks like an error or a warning', { stderr: served.stderr });

          await untilTraceHas(collector, traceId, 3, 3_000);
          // By span id: on a loaded machine an export can time out after the collector took it, and the
          // retry delivers the same spans again (at-least-once delivery).
          const ours = [...new Map(spansOf(collector.spans, traceId).filter((s) => s.resource['service.name'] === 'ours').map((s) => [s.spanId, s])).values()];
          const server = one(ours, (s) => s.kind === KIND.server);
          const viaFetch = one(ours, (s) => s.kind === KIND.client && String(s.attributes['http.url']).endsWith('/fetch'));
          const viaHttp = one(ours, (s) => s.kind === KIND.client && String(s.attributes['http.url']).endsWith('/http-get'));
          const seen = ours.map((s) => [s.name, s.kind, s.attributes.component, s.parentSpanId]);
          t.ok(server, 'http server + express: one server span of ours', { seen });
          t.equal(server?.attributes.component, 'express', 'recorded by the express instrumentation');
          t.equal(server?.attributes['http.route'], '/call', 'with the route');
          t.equal(server?.parentSpanId, CALLER_SPAN, 'continuing the caller\'s trace');
          t.ok(viaFetch, 'fetch: one client span of ours', { seen });
          t.equal(viaFetch?.parentSpanId, server?.spanId, 'a child of the server span');
          t.ok(viaHttp, 'http.get: one client span of ours', { seen });
          t.equal(viaHttp?.parentSpanId, server?.spanId, 'a child of the server span');

          // Downstream propagation. http.get: exactly one traceparent, ours, in both orders (our wrapper sets
          // the header last, or outermost). fetch: both agents listen on undici's diagnostics channel and
          // the first one to see the request adds its header; we never override a traceparent that is
          // already there (it may be the caller's own), OpenTelemetry appends a second one.
          t.same(downstream.traceparents.get('/http-get'), [`00-${traceId}-${viaHttp?.spanId}-01`], 'http.get sends our traceparent, and only ours');
          const fetchHeaders = (downstream.traceparents.get('/fetch')?.[0] ?? '').split(', ');
          if (order.oursFirst) {
            t.equal(fetchHeaders[0], `00-${traceId}-${viaFetch?.spanId}-01`, 'fetch sends our traceparent first', { fetchHeaders });
          } else {
            t.equal(fetchHeaders.length, 1, 'fetch sends one traceparent, OpenTelemetry\'s', { fetchHeaders });
            t.match(fetchHeaders[0], new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'in the same trace, so the downstream service still joins it', { fetchHeaders });
          }
        });
      }
    });
  }
});
