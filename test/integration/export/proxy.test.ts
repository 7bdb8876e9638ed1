import t from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { REGISTER, ROOT, runNode } from '../../helpers/run-node.js';
import { Collector } from '../../helpers/collector.js';
import { nodeLines } from '../node-lines/binaries.js';

// The exporter goes through an HTTP proxy exactly when Node's own client does: on Node 24+ with
// NODE_USE_ENV_PROXY=1 and HTTP_PROXY set (NO_PROXY honoured), and never on lines that ignore those
// (20, 22), where the app's own requests go direct too. The proxy here is a real forward proxy in this
// process: it takes the absolute-form request and passes it on to the in-test collector, which decodes
// the spans with the official definitions. The endpoint's host name does not resolve, so a span that
// arrives can only have come through the proxy.
const SCRIPT = path.join(ROOT, 'test/integration/export/fixtures/short-script.cjs');
const UNRESOLVABLE = 'http://collector.invalid:4318/v1/traces';

async function forwardProxy(collector: Collector): Promise<{ url: string; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The export goes to the collector; the script's own request (proxied too) to where it was going.
      const target = req.url === UNRESOLVABLE ? collector.otlpUrl : req.url!;
      const forward = http.request(target, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') } }, (answer) => {
        const body: Buffer[] = [];
        answer.on('data', (c: Buffer) => body.push(c));
        answer.on('end', () => res.writeHead(answer.statusCode ?? 502, { 'content-type': String(answer.headers['content-type'] ?? 'text/plain') }).end(Buffer.concat(body)));
      });
      forward.on('error', () => res.writeHead(502).end());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

/** Whether this Node's own HTTP client goes through HTTP_PROXY when NODE_USE_ENV_PROXY=1 (22.21+, 24.5+). */
const honours = new Map<string, Promise<boolean>>();
function clientHonoursProxy(node: string): Promise<boolean> {
  let known = honours.get(node);
  if (known === undefined) honours.set(node, (known = probeProxy(node)));
  return known;
}

async function probeProxy(node: string): Promise<boolean> {
  const probe = await runNode(['-p', "Boolean(require('node:http').globalAgent.options.proxyEnv)"], { node, env: { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: 'http://127.0.0.1:9' } });
  return probe.stdout.trim() === 'true';
}

// The direct cases (NODE_USE_ENV_PROXY unset, NO_PROXY) are decided by Node's agent, not by the line:
// they run on the first line that honours the proxy, to keep the suite's time down.
let directCasesRun = false;

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(`${line.label}: with NODE_USE_ENV_PROXY=1 and HTTP_PROXY the export goes through the proxy when Node's own client does`, async (t) => {
    const honoured = await clientHonoursProxy(node);
    t.comment(`Node's client ${honoured ? 'uses' : 'ignores'} the proxy on this line`);
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const proxy = await forwardProxy(collector);
    t.teardown(proxy.close);
    const run = await runNode(['--import', REGISTER, SCRIPT], { node, env: { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: proxy.url, TRACING_ENDPOINT: UNRESOLVABLE, TRACING_LOG_LEVEL: 'debug' } });
    t.equal(run.code, 0, run.stderr);
    if (honoured) {
      t.ok(proxy.seen.includes(`POST ${UNRESOLVABLE}`), `the proxy got the export: ${proxy.seen.join(', ')}`);
      t.same(collector.decodeErrors, []);
      t.same(collector.spans.map((s) => s.kind).sort(), [2, 3], 'the server span and the client span, through the proxy');
      t.notMatch(run.stderr, /dropped/);
    } else {
      t.same(proxy.seen, [], 'nothing went through the proxy');
      t.match(run.stderr, /dropped 2 span\(s\): at exit: getaddrinfo (ENOTFOUND|EAI_AGAIN) collector\.invalid/, 'sent direct, as the app\'s own requests are');
    }
  });

  t.test(`${line.label}: without NODE_USE_ENV_PROXY, or with the collector in NO_PROXY, the export goes direct`, async (t) => {
    if (!(await clientHonoursProxy(node))) {
      t.comment('this line has no NODE_USE_ENV_PROXY for its HTTP client: covered by the test above');
      return;
    }
    if (directCasesRun) {
      t.comment('run on an earlier line');
      return;
    }
    directCasesRun = true;
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const proxy = await forwardProxy(collector);
    t.teardown(proxy.close);
    const off = await runNode(['--import', REGISTER, SCRIPT], { node, env: { HTTP_PROXY: proxy.url, TRACING_ENDPOINT: UNRESOLVABLE, TRACING_LOG_LEVEL: 'debug' } });
    t.equal(off.code, 0, off.stderr);
    t.same(proxy.seen, [], 'NODE_USE_ENV_PROXY unset: no proxy');
    t.match(off.stderr, /dropped 2 span\(s\): at exit: getaddrinfo (ENOTFOUND|EAI_AGAIN) collector\.invalid/);
    const bypassed = await runNode(['--import', REGISTER, SCRIPT], { node, env: { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1', TRACING_ENDPOINT: collector.otlpUrl } });
    t.equal(bypassed.code, 0, bypassed.stderr);
    t.same(proxy.seen, [], 'NO_PROXY names the collector: no proxy');
    t.same(collector.spans.map((s) => s.kind).sort(), [2, 3], 'delivered direct');
  });
}
