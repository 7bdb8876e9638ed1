// Zero-code fetch/undici: an http server calls a second server with the global fetch, undici.request,
// undici.fetch and a Pool, under `node --import register.mjs`; the collector gets one trace per
// incoming request with correct parents, and the downstream server sees the client span's id.
import t from 'tap';
import * as net from 'node:net';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, send, startApp, type Reply } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';

const PARENT = '00f067aa0ba902b7';
const APIS = [
  { api: 'fetch', component: 'fetch' },
  { api: 'undici-fetch', component: 'fetch' },
  { api: 'request', component: 'undici' },
  { api: 'pool', component: 'undici' },
] as const;
const RUNS = [
  ['app.cjs', 'undici5'], ['app.cjs', 'undici6'], ['app.cjs', 'undici7'], ['app.mjs', 'undici7'],
] as const;

interface CallReply {
  status?: number;
  body?: string;
  error?: string;
  cause?: string;
  active: string;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function one(spans: ReceivedSpan[], pick: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pick);
  if (found.length !== 1) throw new Error(`expected one ${what}, got ${found.length}: ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.attributes['http.url']]))}`);
  return found[0]!;
}

for (const [app, undici] of RUNS) {
  t.test(`${app} with ${undici} under the agent`, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const running = await startApp(fixturePath('undici', app), {
      env: {
        TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '20',
        TRACING_PEER_SERVICES: '127.0.0.1=backend', UNDICI_PACKAGE: undici,
      },
    });
    const { front, back } = running.ports as Record<string, number>;
    const headers = (traceId: string) => ({ traceparent: `00-${traceId}-${PARENT}-01`, tracestate: 'vendor=v1' });

    const ok: { api: string; component: string; traceId: string; reply: Reply }[] = [];
    for (const { api, component } of APIS) {
      const traceId = newTraceId();
      ok.push({ api, component, traceId, reply: await send(front, { path: `/call?api=${api}&path=${encodeURIComponent('/echo?token=t&x=1')}`, headers: headers(traceId) }) });
    }
    const refused = await closedPort();
    const failed: { api: string; mode: string; traceId: string; reply: Reply }[] = [];
    for (const { api } of APIS) {
      for (const mode of ['refused', 'timeout', 'abort']) {
        const traceId = newTraceId();
        const query = mode === 'refused' ? `port=${refused}` : `mode=${mode}&path=/slow`;
        failed.push({ api, mode, traceId, reply: await send(front, { path: `/call?api=${api}&${query}`, headers: headers(traceId) }) });
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    t.equal((await running.stop()).code, 0, 'the app ends normally');
    const spans = collector.spans;
    t.same(collector.decodeErrors, []);
    t.notMatch(running.stderr, /warn|error/i, 'the agent logged nothing');

    t.test('one trace per request, correct parents, the client span id downstream', async (t) => {
      for (const { api, component, traceId, reply } of ok) {
        t.equal(reply.status, 200, `${api}: the call went through`);
        const got = JSON.parse(reply.body) as CallReply;
        t.equal(got.active, 'kept', `${api}: the code after the await still has the server span active`);
        const echo = JSON.parse(got.body!) as { headers: Record<string, string> };
        const trace = spansOf(spans, traceId);
        t.equal(trace.length, 3, `${api}: front server, client, back server — one client span per request`);
        const frontSpan = one(trace, (s) => s.kind === KIND.server && s.parentSpanId === PARENT, `${api} front`);
        const client = one(trace, (s) => s.kind === KIND.client, `${api} client`);
        const backSpan = one(trace, (s) => s.kind === KIND.server && s !== frontSpan, `${api} back`);
        t.equal(client.parentSpanId, frontSpan.spanId, `${api}: client is a child of the server span`);
        t.equal(backSpan.parentSpanId, client.spanId, `${api}: downstream is a child of the client span`);
        t.equal(echo.headers.traceparent, `00-${traceId}-${client.spanId}-01`, `${api}: traceparent downstream = client span id`);
        t.equal(echo.headers.tracestate, 'vendor=v1', `${api}: tracestate carried`);
        t.equal(echo.headers['x-caller'], api, `${api}: the caller's own headers still sent`);
        t.same(client.attributes, {
          component, 'http.method': 'GET', 'http.url': `http://127.0.0.1:${back}/echo?token=REDACTED&x=1`,
          'peer.hostname': '127.0.0.1', 'peer.port': back, 'peer.service': 'backend', 'http.status_code': 200,
        }, `${api}: client span tags`);
        t.equal(client.status.code, 0);
      }
    });

    t.test('connection refused, timeout and abort finish the span with error=true', async (t) => {
      for (const { api, mode, traceId, reply } of failed) {
        const label = `${api} ${mode}`;
        t.equal(reply.status, 502, `${label}: the app saw the failure`);
        const got = JSON.parse(reply.body) as CallReply;
        t.equal(got.active, 'kept', `${label}: the caller's span is still active after the failure`);
        const client = one(spansOf(spans, traceId), (s) => s.kind === KIND.client, `${label} client`);
        t.equal(client.status.code, 2, `${label}: error`);
        t.ok(client.events.some((e) => e.name === 'exception'), `${label}: the error is logged`);
        t.equal(client.attributes['http.aborted'], mode === 'abort' ? true : undefined, `${label}: only a caller's abort is marked aborted`);
        if (mode === 'refused') t.match(`${got.error} ${got.cause}`, /ECONNREFUSED/, `${label}: connection refused`);
      }
    });

    t.test('the exporter\'s own requests are never traced', async (t) => {
      t.ok(collector.requests.length > 0, 'the collector was called');
      t.notOk(spans.some((s) => String(s.attributes['http.url']).includes(`:${collector.port}/`)), 'no span describes a request to the collector');
    });
  });
}
