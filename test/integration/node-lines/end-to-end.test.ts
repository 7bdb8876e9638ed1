// The same small app on every Node line users run (20, 22, 24, 26), as an ES module and as CommonJS,
// under `node --import register.mjs` with the OTLP exporter pointed at an in-test collector: one
// incoming request makes one global fetch and one http.get to a downstream server in this process
// (which runs no agent). Proves that the hooks of each line (loader thread on 20, in-thread
// registerHooks on 22.22.3+/24.11.1+/26) produce the same trace, and that the app exits by itself.
import t from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';
import { nodeLines } from './binaries.js';
import { startDownstream } from './servers.js';

function one(spans: readonly ReceivedSpan[], pick: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pick);
  if (found.length !== 1) throw new Error(`expected one ${what}, got ${found.length}: ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.attributes['http.url']]))}`);
  return found[0]!;
}

/** stderr lines that are not the agent's own (Node warnings, deprecations, stack traces). */
function foreignLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('[tracing-agent] '));
}

// A long batch delay: the spans can only reach the collector through the flush on exit, so a
// prompt exit with all spans proves both that nothing of the agent holds the process and that it flushes.
const BATCH_DELAY_MS = '60000';
const CALLER_SPAN = '00f067aa0ba902b7';
const EXIT_DEADLINE_MS = 5_000;

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(line.label, async (t) => {
    for (const app of ['app.mjs', 'app.cjs']) {
      t.test(`${app}: one trace across fetch and http.get, then a prompt exit`, async (t) => {
        const collector = await Collector.start();
        t.teardown(() => collector.close());
        const downstream = await startDownstream();
        t.teardown(() => downstream.close());
        const running = await startApp(fixturePath('node-lines', app), {
          node,
          lifetimeMs: 20_000,
          env: {
            TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: BATCH_DELAY_MS,
            TRACING_SERVICE_NAME: 'node-lines', DOWNSTREAM_PORT: String(downstream.port),
          },
        });

        const traceId = newTraceId();
        const reply = await send(running.port, { path: '/call', headers: { traceparent: `00-${traceId}-${CALLER_SPAN}-01` } });
        t.equal(reply.status, 200, 'the request went through', { body: reply.body });
        t.same(JSON.parse(reply.body), { fetch: 200, httpGet: 200 }, 'both downstream calls answered');

        const shutdownAt = Date.now();
        await send(running.port, { path: '/shutdown' });
        const exit = await running.exited;
        t.equal(exit.killed, false, 'the process ended by itself');
        t.equal(exit.code, 0, 'with code 0');
        t.ok(exit.endedAt - shutdownAt < EXIT_DEADLINE_MS, `within ${EXIT_DEADLINE_MS} ms of closing its server (took ${exit.endedAt - shutdownAt} ms)`);
        t.same(foreignLines(running.stderr), [], 'no warnings on stderr other than the agent\'s own');
        t.notMatch(running.stderr, /\] (warn|error):/, 'and the agent warned about nothing');

        // The /shutdown request is traced too (its own trace): four spans in all.
        await collector.waitForSpans(4, 2_000).catch(() => undefined);
        t.same(collector.decodeErrors, [], 'every export decoded');
        // By span id: on a loaded machine an export can time out after the collector took it, and the
        // retry delivers the same spans again (at-least-once delivery).
        const received = [...new Map(collector.spans.map((s) => [s.spanId, s])).values()];
        const spans = spansOf(received, traceId);
        t.equal(spans.length, 3, 'the request\'s trace: its server span and two client spans', { all: received.map((s) => [s.traceId, s.name, s.kind]) });
        t.equal(received.length, 4, 'and the /shutdown request\'s server span, nothing else (the exporter\'s own requests are not traced)');
        const server = one(spans, (s) => s.kind === KIND.server, 'server span');
        const viaFetch = one(spans, (s) => s.kind === KIND.client && String(s.attributes['http.url']).endsWith('/fetch'), 'fetch client span');
        const viaHttp = one(spans, (s) => s.kind === KIND.client && String(s.attributes['http.url']).endsWith('/http-get'), 'http.get client span');
        t.equal(server.parentSpanId, CALLER_SPAN, 'the server span continues the caller\'s trace');
        t.equal(viaFetch.parentSpanId, server.spanId, 'fetch is a child of the server span');
        t.equal(viaHttp.parentSpanId, server.spanId, 'http.get is a child of the server span');
        t.equal(viaFetch.attributes.component, 'fetch', 'fetch recorded by the fetch instrumentation');
        t.equal(viaHttp.attributes.component, 'http', 'http.get recorded by the http instrumentation');
        t.same(downstream.traceparents.get('/fetch'), [`00-${traceId}-${viaFetch.spanId}-01`], 'fetch carried its own span downstream');
        t.same(downstream.traceparents.get('/http-get'), [`00-${traceId}-${viaHttp.spanId}-01`], 'http.get carried its own span downstream');
      });
    }
  });
}
