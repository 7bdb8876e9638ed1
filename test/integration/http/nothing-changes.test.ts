// "Nothing changes": the same conversations with the same app, once without the agent and once under
// `node --import register.mjs`, compared byte for byte (minus `Date:` lines, and minus our own trace
// headers where the app echoes what it received).
import t from 'tap';
import * as http from 'node:http';
import { Collector } from '../../helpers/collector.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { rawExchange, withoutDate } from './raw-client.js';

type Ports = Record<string, number>;
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
const last = (text: string) => text.replace('Host: 127.0.0.1\r\n', 'Host: 127.0.0.1\r\nConnection: close\r\n');

/** Keep-alive through Node's own Agent: statuses, bodies, and whether the socket was reused. */
async function keepAliveThroughAgent(port: number): Promise<unknown[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: unknown[] = [];
  for (const path of ['/status/200', '/chunked', '/status/204']) {
    out.push(await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
          const { date: _date, ...headers } = res.headers;
          resolve({ status: res.statusCode, headers, body, reusedSocket: req.reusedSocket });
        });
      });
      req.on('error', reject);
    }));
  }
  agent.destroy();
  return out;
}

/** The body the app echoed, without the trace headers the agent adds to its outgoing call (order kept). */
function withoutTraceHeaders(body: string): unknown {
  const parsed = JSON.parse(body) as { echo?: { headers: Record<string, string> } };
  if (parsed.echo !== undefined) {
    delete parsed.echo.headers.traceparent;
    delete parsed.echo.headers.tracestate;
    // The back server's port differs between the two runs.
    parsed.echo.headers.host = parsed.echo.headers.host!.replace(/:\d+$/, ':<port>');
  }
  return parsed;
}

const CONVERSATIONS: Record<string, (p: Ports) => Promise<unknown>> = {
  'keep-alive, raw: three requests on one connection': (p) => rawExchange(p.front!, [
    { write: get('/status/200') }, { after: 'status', write: get('/headers') }, { after: 'headers', write: last(get('/chunked')) },
  ]),
  'keep-alive through an Agent': (p) => keepAliveThroughAgent(p.front!),
  'pipelining: two requests written at once': (p) => rawExchange(p.front!, [{ write: get('/status/201') + last(get('/chunked')) }]),
  'chunked streaming response': (p) => rawExchange(p.front!, [{ write: last(get('/chunked')) }]),
  'streaming chunked request body echoed': (p) => rawExchange(p.front!, [
    { write: 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n' },
    { after: 'hello', write: '6\r\n world\r\n0\r\n\r\n' },
  ]),
  'Expect: 100-continue': (p) => rawExchange(p.front!, [
    { write: 'POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n' },
    { after: '100 Continue', write: 'body' },
  ]),
  'HEAD request': (p) => rawExchange(p.front!, [{ write: last(`HEAD /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`) }]),
  'not found': (p) => rawExchange(p.front!, [{ write: last(get('/nope')) }]),
  'server error status': (p) => rawExchange(p.front!, [{ write: last(get('/status/500')) }]),
  'handler throws': (p) => rawExchange(p.front!, [{ write: last(get('/throw')) }]),
  'client aborts mid-response, the next request is served as before': async (p) => [
    await rawExchange(p.front!, [{ write: get('/slow') }, { after: 'partial', destroy: true }]),
    await rawExchange(p.front!, [{ write: last(get('/status/200')) }]),
  ],
  'malformed request': (p) => rawExchange(p.front!, [{ write: 'NOT-HTTP\r\n\r\n' }]),
  'upgrade': (p) => rawExchange(p.front!, [{ write: get('/chat', 'Connection: Upgrade\r\nUpgrade: websocket\r\n') }]),
  'CONNECT': (p) => rawExchange(p.front!, [{ write: 'CONNECT backend.internal:443 HTTP/1.1\r\nHost: backend.internal:443\r\n\r\n' }]),
  'outgoing calls of every kind': async (p) => {
    const out: unknown[] = [];
    for (const q of ['sig=url-string', 'sig=options', 'sig=url-and-options', 'sig=get-no-callback', 'proto=https&sig=agent', 'sig=url-string&path=/status/503', 'sig=abort&path=/slow', 'sig=timeout-fires&path=/slow']) {
      const r = await send(p.front!, { path: `/call?${q}` });
      out.push({ q, status: r.status, body: withoutTraceHeaders(r.body) });
    }
    return out;
  },
};

async function runAll(agent: boolean, collectorUrl: string): Promise<Record<string, unknown>> {
  const running = await startApp(fixturePath('http', 'app.cjs'), {
    agent,
    env: { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collectorUrl, TRACING_BATCH_DELAY_MS: '20', NODE_EXTRA_CA_CERTS: fixturePath('http', 'tls-cert.pem') },
  });
  const results: Record<string, unknown> = {};
  try {
    for (const [name, run] of Object.entries(CONVERSATIONS)) {
      const result = await run(running.ports as Ports);
      results[name] = typeof result === 'string' ? withoutDate(result) : Array.isArray(result) ? result.map((r) => (typeof r === 'string' ? withoutDate(r) : r)) : result;
    }
  } finally {
    await running.stop();
  }
  return results;
}

t.test('the http app answers exactly the same with and without the agent', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const without = await runAll(false, collector.otlpUrl);
  t.equal(collector.spans.length, 0, 'no spans without the agent');
  const withAgent = await runAll(true, collector.otlpUrl);
  await collector.waitForSpans(1);
  t.ok(collector.spans.length > 0, 'the agent was really tracing');
  for (const name of Object.keys(CONVERSATIONS)) t.same(withAgent[name], without[name], name);
  // The comparison means something only if the conversations did what they say.
  t.match(without['Expect: 100-continue'], /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  t.match(without['upgrade'], /^HTTP\/1\.1 101 Switching Protocols/);
  t.match(without['CONNECT'], /x-tunnel: backend\.internal:443/);
  t.match(without['handler throws'], /caught handler failed; same error object: true/);
  t.match(without['pipelining: two requests written at once'], /201 Created[\s\S]*chunk 2/);
  t.match(without['keep-alive through an Agent'], [{ reusedSocket: false }, { reusedSocket: true }, { reusedSocket: true }]);
});
