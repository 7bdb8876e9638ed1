// Security: credentials and sensitive values never reach a span, exporter secrets never reach a
// log line or the `config` command, incoming baggage is bounded, and no header changes the agent.
import t from 'tap';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Collector } from '../helpers/collector.js';
import { ROOT, runNode } from '../helpers/run-node.js';
import { startApp } from '../helpers/fixture-app.js';
import { APP, get, stats } from './helpers/load.js';

interface Downstream {
  url: string;
  headers: http.IncomingHttpHeaders[];
  close(): void;
}

async function downstream(): Promise<Downstream> {
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    headers.push(req.headers);
    res.end('d');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, headers, close: () => { server.closeAllConnections(); server.close(); } };
}

// Q-TOKEN travels as the value of the app's own `q` parameter (not sensitive) and becomes a `token`
// parameter only on the outgoing call: it must be redacted there.
const IN_SECRETS = ['IN-AUTH', 'IN-COOKIE', 'IN-PROXY', 'URL-PW', 'PW-Q', 'sid=4', 'HDR-SECRET'];

t.test('credentials, cookies and sensitive query values never reach a span', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-sec-'));
  const configFile = path.join(dir, 'tracing.json');
  // Asking for the forbidden headers explicitly must still not record them.
  fs.writeFileSync(configFile, JSON.stringify({ instrumentations: { http: {
    requestHeaders: ['authorization', 'proxy-authorization', 'cookie', 'x-visible'],
    responseHeaders: ['set-cookie', 'x-app'],
  } } }));
  const down = await downstream();
  const collector = await Collector.start();
  const app = await startApp(APP, {
    agent: true,
    env: {
      DOWNSTREAM_URL: down.url.replace('http://', 'http://user:URL-PW@'),
      TRACING_ENDPOINT: collector.otlpUrl,
      TRACING_EXPORTER_HEADERS: 'authorization=Bearer HDR-SECRET',
      TRACING_CONFIG: configFile,
      TRACING_BATCH_DELAY_MS: '50',
      TRACING_LOG_LEVEL: 'debug',
    },
  });
  t.teardown(async () => {
    await app.destroy();
    await collector.close();
    down.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const agent = new http.Agent({ keepAlive: true });
  const incoming = { authorization: 'Bearer IN-AUTH', cookie: 'sid=IN-COOKIE', 'proxy-authorization': 'Basic IN-PROXY', 'x-visible': 'shown' };
  await get(agent, `${app.url}/call?i=1&q=${encodeURIComponent('token=Q-TOKEN&ok=1')}`, incoming);
  await get(agent, `${app.url}/fetch?i=2`, incoming);
  await get(agent, `${app.url}/work?n=4&password=PW-Q`, incoming);
  agent.destroy();
  // 3 server spans and the http client span (fetch refuses a URL with credentials: no client call).
  const spans = await collector.waitForSpans(4, 10_000);
  const recorded = JSON.stringify(spans.map((s) => s.attributes));
  t.same(IN_SECRETS.filter((s) => recorded.includes(s)), [], 'no credential, cookie or sensitive query value in any span attribute');
  const client = spans.find((s) => s.kind === 3);
  t.match(String(client?.attributes['http.url']), /\/d\?i=1&token=REDACTED&ok=1$/, 'the outgoing call\'s token is redacted');
  t.notMatch(JSON.stringify(client), /URL-PW|Q-TOKEN/, 'the client span holds neither the URL password nor the token');
  t.match(recorded, /"http.request.header.x-visible":"shown"/, 'an allowed header is recorded (the capture itself works)');
  t.match(recorded, /token=REDACTED/, 'sensitive query values are replaced by REDACTED');
  t.equal(collector.requests[0]?.headers.authorization, 'Bearer HDR-SECRET', 'the exporter header reaches the backend');
  t.same(IN_SECRETS.filter((s) => app.stderr.includes(s)), [], 'no secret in the agent\'s debug log');
});

t.test('TRACING_REDACT_QUERY_PARAMS replaces the list of redacted query parameters', async (t) => {
  const collector = await Collector.start();
  const app = await startApp(APP, { agent: true, env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_REDACT_QUERY_PARAMS: 'custom,Other' } });
  t.teardown(async () => {
    await app.destroy();
    await collector.close();
  });
  const agent = new http.Agent();
  await get(agent, `${app.url}/work?n=1&custom_id=C-SECRET&OTHER=O-SECRET&token=visible`);
  agent.destroy();
  const [span] = await collector.waitForSpans(1, 10_000);
  t.equal(span!.attributes['http.url'], `http://127.0.0.1:${app.port}/work?n=1&custom_id=REDACTED&OTHER=REDACTED&token=visible`);
});

t.test('exporter headers and endpoint credentials never appear in logs, errors or `tracing-agent config`', async (t) => {
  // A backend that refuses every batch with 401: the export fails at once and is logged.
  const refusing = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(401).end('bad token HDR-SECRET?')));
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  t.teardown(() => refusing.close());
  const port = (refusing.address() as AddressInfo).port;
  const env = {
    TRACING_ENDPOINT: `http://user:URL-SECRET@127.0.0.1:${port}/v1/traces?api_key=Q-SECRET`,
    TRACING_EXPORTER_HEADERS: 'authorization=Bearer HDR-SECRET,x-api-key=KEY-SECRET',
    TRACING_LOG_LEVEL: 'debug',
    TRACING_BATCH_DELAY_MS: '10',
  };
  const secrets = ['URL-SECRET', 'Q-SECRET', 'HDR-SECRET', 'KEY-SECRET'];
  const app = await startApp(APP, { agent: true, env });
  const agent = new http.Agent();
  for (let i = 0; i < 5; i++) await get(agent, `${app.url}/work?n=${i}`);
  agent.destroy();
  await new Promise((r) => setTimeout(r, 500));
  app.kill('SIGTERM');
  await app.exited;
  t.match(app.stderr, /dropped \d+ span\(s\).*HTTP 401/, 'the failing exports were logged');
  t.same(secrets.filter((s) => app.stderr.includes(s)), [], 'no secret in any log line or error message');
  const config = await runNode([path.join(ROOT, 'dist/src/cli/main.js'), 'config'], { env });
  t.match(config.stdout + config.stderr, /authorization/i, 'the config command names the header');
  t.same(secrets.filter((s) => (config.stdout + config.stderr).includes(s)), [], 'the config command shows no secret value');
});

t.test('incoming baggage is bounded and no header changes the agent\'s configuration', async (t) => {
  const down = await downstream();
  const collector = await Collector.start();
  const app = await startApp(APP, { agent: true, env: { DOWNSTREAM_URL: down.url, TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50' } });
  t.teardown(async () => {
    await app.destroy();
    await collector.close();
    down.close();
  });
  const envBefore = (await stats(app.url)).tracingEnv;
  const agent = new http.Agent({ keepAlive: true });
  // Baggage travels with a trace: each request carries a traceparent too.
  const tp = { traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
  await get(agent, `${app.url}/call?i=0`, { ...tp, baggage: 'a=1,b=2' });
  // Over the member limit (400 short members), then over the size limit (one 12 KB member plus more).
  await get(agent, `${app.url}/call?i=1`, { ...tp, baggage: Array.from({ length: 400 }, (_, i) => `k${i}=v`).join(',') });
  await get(agent, `${app.url}/call?i=2`, { ...tp, baggage: `big=${'v'.repeat(12_000)},small=1` });
  for (const [i, h] of down.headers.entries()) {
    const sent = String(h.baggage ?? '');
    t.ok(sent.length <= 8192, `request ${i + 1}: baggage sent downstream is at most 8192 bytes (${sent.length})`);
    t.ok(sent === '' || sent.split(',').length <= 180, `request ${i + 1}: and at most 180 members (${sent === '' ? 0 : sent.split(',').length})`);
  }
  t.equal(String(down.headers[0]?.baggage ?? ''), 'a=1,b=2', 'baggage within the limits propagates');

  const hostile = {
    'tracing-enabled': 'false', 'x-tracing-sampler': 'always_off', 'tracing-config': '/etc/passwd', 'otel-sdk-disabled': 'true',
    baggage: 'TRACING_ENABLED=false,TRACING_SAMPLER=always_off,TRACING_LOG_LEVEL=debug,OTEL_SDK_DISABLED=true',
  };
  for (let i = 0; i < 20; i++) await get(agent, `${app.url}/work?n=${i}`, hostile);
  await get(agent, `${app.url}/work?n=99`);
  agent.destroy();
  // 24 app requests (3 of them call downstream) and the /__stats request made before them.
  const spans = await collector.waitForSpans(28, 10_000);
  t.equal(spans.filter((s) => s.kind === 2).length, 25, `requests with configuration-like headers are traced as any other (${spans.length} spans)`);
  t.ok(spans.some((s) => String(s.attributes['http.url']).endsWith('n=99')), 'and so is the next plain request');
  t.same((await stats(app.url)).tracingEnv, envBefore, 'the process environment is unchanged');
  t.notMatch(app.stderr, /debug:/, 'the log level did not change');
});
