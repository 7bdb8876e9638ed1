// Zero-code http/https: the fixture apps run under `node --import register.mjs` with the OTLP exporter
// pointed at an in-test collector; the test drives them from outside (this process runs no agent) and
// checks the span trees the collector received and the headers the downstream servers saw.
import t from 'tap';
import * as net from 'node:net';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, send, startApp, writeConfigFile, type Reply } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';

const PARENT = '00f067aa0ba902b7';
const TRACESTATE = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';
const SIGNATURES = [
  'url-string', 'url-object', 'options', 'url-and-options', 'get-no-callback', 'get-callback', 'agent', 'timeout', 'signal', 'caller-traceparent',
] as const;

interface Echo {
  status: number;
  echo: { method: string; url: string; headers: Record<string, string> };
}

/** A port nothing listens on, for connection-refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Reads a request the client gives up on after the first bytes of the response. */
function abortAfterFirstChunk(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`));
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
}

function one(spans: ReceivedSpan[], pick: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pick);
  if (found.length !== 1) throw new Error(`expected one ${what}, got ${found.length}: ${JSON.stringify(spans.map((s) => [s.name, s.kind, s.attributes['http.url']]))}`);
  return found[0]!;
}

for (const app of ['app.cjs', 'app.mjs']) {
  t.test(`${app} under the agent`, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const instrumentationOptions = {
      ignorePaths: ['/health'],
      requestHeaders: ['x-request-id', 'authorization', 'cookie'],
      responseHeaders: ['x-response-id', 'set-cookie'],
    };
    const config = writeConfigFile(t, { instrumentations: { http: instrumentationOptions, https: instrumentationOptions } });
    const running = await startApp(fixturePath('http', app), {
      env: {
        TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '20', TRACING_SERVICE_NAME: 'front',
        TRACING_CONFIG: config, TRACING_PEER_SERVICES: '127.0.0.1=backend', NODE_EXTRA_CA_CERTS: fixturePath('http', 'tls-cert.pem'),
      },
    });
    const { front, frontTls, frontV6, back, backTls } = running.ports as Record<string, number>;
    const traced = (traceId: string, extra: Record<string, string> = {}) => ({ traceparent: `00-${traceId}-${PARENT}-01`, tracestate: TRACESTATE, ...extra });

    // Drive every scenario, remembering each one's trace id and reply.
    const calls: { proto: string; sig: string; traceId: string; reply: Reply }[] = [];
    for (const proto of ['http', 'https']) {
      for (const sig of SIGNATURES) {
        const traceId = newTraceId();
        calls.push({ proto, sig, traceId, reply: await send(front, { path: `/call?proto=${proto}&sig=${sig}&path=${encodeURIComponent('/echo?api_key=k1&x=1')}`, headers: traced(traceId) }) });
      }
    }
    const failures: Record<string, { traceId: string; reply: Reply }> = {};
    const refusedPort = await closedPort();
    for (const [name, query] of [
      ['timeout', 'sig=timeout-fires&path=/slow'], ['abort', 'sig=abort&path=/slow'], ['destroy', 'sig=destroy&path=/slow'],
      ['refused', `sig=url-string&port=${refusedPort}`], ['status-503', 'sig=url-string&path=/status/503'],
      ['https-refused', `proto=https&sig=options&port=${refusedPort}`],
    ] as const) {
      const traceId = newTraceId();
      failures[name] = { traceId, reply: await send(front, { path: `/call?${query}`, headers: traced(traceId) }) };
    }
    const server500 = newTraceId();
    await send(front, { path: '/status/500', headers: traced(server500) });
    const server404 = newTraceId();
    await send(front, { path: '/status/404?token=t0p&x=1', headers: traced(server404) });
    const thrown = newTraceId();
    const thrownReply = await send(front, { path: '/throw', headers: traced(thrown) });
    const clientAbort = newTraceId();
    await send(front, { path: '/health', headers: traced(newTraceId()) });
    const headersTrace = newTraceId();
    await send(front, { path: '/headers', headers: traced(headersTrace, { 'x-request-id': 'req-7', authorization: 'Bearer s3cret', cookie: 'a=b', 'x-service-name': 'web' }) });
    const tlsTrace = newTraceId();
    await new Promise<void>((resolve, reject) => {
      // The test's TLS client trusts the committed self-signed certificate (no network, no real CA).
      const https = require('node:https') as typeof import('node:https');
      const fs = require('node:fs') as typeof import('node:fs');
      https.get({ host: '127.0.0.1', port: frontTls, path: '/status/200', agent: false, ca: fs.readFileSync(fixturePath('http', 'tls-cert.pem')), headers: traced(tlsTrace) }, (res) => {
        res.resume().on('end', resolve);
      }).on('error', reject);
    });
    const v6Trace = newTraceId();
    if (frontV6 !== null) await send(frontV6, { host: '::1', path: '/status/200', headers: traced(v6Trace) });
    const invalid = await send(front, { path: '/call?sig=url-string', headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01`, tracestate: TRACESTATE } });
    const noParent = await send(front, { path: '/call?sig=url-string' });
    await abortAfterFirstChunk(front, `/slow?clientAbort=${clientAbort}`);
    await new Promise((r) => setTimeout(r, 50));

    const { code } = await running.stop();
    t.equal(code, 0, 'the app ends normally');
    const spans = collector.spans;
    t.same(collector.decodeErrors, []);
    t.notMatch(running.stderr, /warn|error/i, 'the agent logged nothing');
    const spanIds = new Set(spans.map((s) => s.spanId));
    t.equal(spanIds.size, spans.length, 'every span exported once');

    t.test('every client call signature: one trace, correct parents, context carried downstream', async (t) => {
      for (const { proto, sig, traceId, reply } of calls) {
        const label = `${proto} ${sig}`;
        t.equal(reply.status, 200, `${label}: the call went through`);
        const got = JSON.parse(reply.body) as Echo;
        const trace = spansOf(spans, traceId);
        t.equal(trace.length, 3, `${label}: front server, client, back server`);
        const frontSpan = one(trace, (s) => s.kind === KIND.server && s.parentSpanId === PARENT, `${label} front span`);
        const client = one(trace, (s) => s.kind === KIND.client, `${label} client span`);
        const backSpan = one(trace, (s) => s.kind === KIND.server && s !== frontSpan, `${label} back span`);
        t.equal(client.parentSpanId, frontSpan.spanId, `${label}: client is a child of the server span`);
        t.equal(backSpan.parentSpanId, client.spanId, `${label}: downstream server is a child of the client span`);
        t.equal(got.echo.headers.traceparent, `00-${traceId}-${client.spanId}-01`, `${label}: downstream got the same trace id and the client span as parent`);
        t.equal(got.echo.headers.tracestate, TRACESTATE, `${label}: tracestate passed on unchanged`);
        t.equal(client.traceState, TRACESTATE);
        const backPort = proto === 'https' ? backTls : back;
        t.same(client.attributes, {
          component: proto, 'http.method': sig === 'url-and-options' ? 'POST' : 'GET',
          'http.url': `${proto}://127.0.0.1:${backPort}/echo?api_key=REDACTED&x=1`,
          'peer.hostname': '127.0.0.1', 'peer.port': backPort, 'peer.service': 'backend', 'http.status_code': 200,
        }, `${label}: client span tags`);
        t.equal(client.status.code, 0, `${label}: no error`);
        t.equal(backSpan.attributes.component, proto);
        if (sig === 'options') t.equal(got.echo.headers['x-caller'], 'options', 'a frozen options object still works');
        if (sig === 'url-and-options') t.equal(got.echo.method, 'POST');
      }
    });

    t.test('a caller\'s own traceparent is replaced, not duplicated', async (t) => {
      const call = calls.find((c) => c.sig === 'caller-traceparent' && c.proto === 'http')!;
      const got = JSON.parse(call.reply.body) as Echo;
      t.match(got.echo.headers.traceparent, new RegExp(`^00-${call.traceId}-[0-9a-f]{16}-01$`));
    });

    t.test('client errors finish the span with error=true', async (t) => {
      for (const [name, { traceId, reply }] of Object.entries(failures)) {
        const trace = spansOf(spans, traceId);
        const client = one(trace, (s) => s.kind === KIND.client, `${name} client span`);
        t.equal(client.status.code, 2, `${name}: error status`);
        if (name === 'status-503') {
          t.equal(reply.status, 200);
          t.equal(client.attributes['http.status_code'], 503);
          const backSpan = one(trace, (s) => s.kind === KIND.server && s.parentSpanId === client.spanId, 'back span');
          t.equal(backSpan.status.code, 2, 'the 503 server span is an error too');
        } else {
          t.equal(reply.status, 502, `${name}: the app saw the failure`);
          t.equal(client.attributes['http.status_code'], undefined, `${name}: no status without a response`);
        }
      }
      t.match(JSON.parse(failures.refused!.reply.body), { error: 'ECONNREFUSED' });
      t.match(spansOf(spans, failures.refused!.traceId).find((s) => s.kind === KIND.client)!.events, [{ name: 'exception', attributes: { 'exception.message': /ECONNREFUSED/ } }]);
      t.ok(spansOf(spans, failures.timeout!.traceId).find((s) => s.kind === KIND.client)!.events.some((e) => e.name === 'timeout'), 'the timeout is logged');
      t.match(JSON.parse(failures.abort!.reply.body), { error: 'ABORT_ERR' });
    });

    t.test('server span tags, status and errors', async (t) => {
      const s500 = one(spansOf(spans, server500), () => true, '500 span');
      t.equal(s500.name, 'GET');
      t.equal(s500.kind, KIND.server);
      t.equal(s500.status.code, 2, '5xx is an error');
      t.match(s500.attributes, { component: 'http', 'http.method': 'GET', 'http.status_code': 500, 'http.url': `http://127.0.0.1:${front}/status/500`, 'peer.ipv4': '127.0.0.1' });
      t.type(s500.attributes['peer.port'], 'number');
      t.equal(s500.resource['service.name'], 'front');
      const s404 = one(spansOf(spans, server404), () => true, '404 span');
      t.equal(s404.status.code, 0, '4xx is not a server error');
      t.equal(s404.attributes['http.url'], `http://127.0.0.1:${front}/status/404?token=REDACTED&x=1`, 'sensitive query values redacted');
      const sThrow = one(spansOf(spans, thrown), () => true, 'throwing handler span');
      t.equal(sThrow.status.code, 2);
      t.match(sThrow.events, [{ name: 'exception', attributes: { 'exception.message': 'handler failed' } }]);
      t.same(thrownReply, { ...thrownReply, status: 500, body: 'caught handler failed; same error object: true' }, 'the app\'s handler got the very error thrown');
      const aborted = spans.find((s) => String(s.attributes['http.url']).includes(`clientAbort=${clientAbort}`));
      t.ok(aborted, 'a span for the request the client aborted');
      t.equal(aborted?.status.code, 2, 'client abort is an error');
      t.ok(aborted?.events.some((e) => e.name === 'exception' && e.attributes['exception.type'] === 'aborted'), 'with an event saying so');
      const tls = one(spansOf(spans, tlsTrace), () => true, 'https server span');
      t.match(tls.attributes, { component: 'https', 'http.url': `https://127.0.0.1:${frontTls}/status/200`, 'http.status_code': 200 });
      if (frontV6 === null) t.comment('no IPv6 loopback here: peer.ipv6 not checked');
      else t.match(one(spansOf(spans, v6Trace), () => true, 'v6 span').attributes, { 'peer.ipv6': '::1' });
    });

    t.test('ignorePaths, captured headers, peer.service from the caller', async (t) => {
      t.notOk(spans.some((s) => String(s.attributes['http.url']).includes('/health')), '/health has no span');
      const h = one(spansOf(spans, headersTrace), () => true, 'headers span');
      t.equal(h.attributes['http.request.header.x-request-id'], 'req-7');
      t.equal(h.attributes['http.response.header.x-response-id'], 'r-1');
      t.equal(h.attributes['peer.service'], 'web', 'the caller named itself');
      const leaked = spans.flatMap((s) => Object.keys(s.attributes)).filter((k) => /authorization|cookie/.test(k));
      t.same(leaked, [], 'authorization, cookie and set-cookie are never captured');
    });

    t.test('W3C: an invalid traceparent starts a new trace; none at all gives a root span', async (t) => {
      for (const [label, reply] of [['invalid', invalid], ['none', noParent]] as const) {
        const got = JSON.parse(reply.body) as Echo;
        const [, traceId, parentId] = got.echo.headers.traceparent!.split('-');
        t.not(traceId, '0'.repeat(32), `${label}: a fresh trace id`);
        t.equal(got.echo.headers.tracestate, undefined, `${label}: no tracestate carried`);
        const trace = spansOf(spans, traceId!);
        t.equal(trace.length, 3, `${label}: a whole new trace`);
        const root = one(trace, (s) => s.parentSpanId === '', `${label} root`);
        t.equal(root.kind, KIND.server);
        t.equal(one(trace, (s) => s.kind === KIND.client, 'client').spanId, parentId);
      }
    });

    t.test('the exporter\'s own requests are never traced', async (t) => {
      t.notOk(spans.some((s) => String(s.attributes['http.url']).includes(`:${collector.port}/`)), 'no span of a request to the collector');
    });
  });
}
