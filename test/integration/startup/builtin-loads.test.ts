// http and https are patched when the app loads them, not at start (issue 20: loading them cost every
// process ~14 ms of CPU on Node 20, also scripts that never use them). What must hold: nothing of them
// is loaded by the agent, and every way an app gets them sees the patch from its first call — an
// ES-module import (named bindings, read right after the import), a later import(), in either order,
// require() and process.getBuiltinModule(). Runs under every Node line (scripts/test-node-lines.mjs):
// on lines with module.registerHooks the resolve hook does the same job (hooks-esm.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { cleanEnv, REGISTER, ROOT, runNodeUntracked } from '../../helpers/run-node.js';

const FIXTURES = path.join(ROOT, 'test', 'integration', 'startup', 'fixtures', 'builtin-loads');
const HTTP_FIXTURES = path.join(ROOT, 'test', 'integration', 'http', 'fixtures');
const SERVER = 2;
const CLIENT = 3;

/** The fixtures in a folder of their own: inside this repository the app would see its devDependencies. */
function appFolder(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'builtin-loads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(FIXTURES, dir, { recursive: true });
  // The app's https server uses the http suite's self-signed certificate for 127.0.0.1 and localhost.
  for (const name of ['tls-key.pem', 'tls-cert.pem']) cpSync(path.join(HTTP_FIXTURES, name), path.join(dir, name));
  return dir;
}

function get(port: number, traceId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
    const req = http.get({ host: '127.0.0.1', port, path: '/front', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

/** Starts the app under the agent, sends three concurrent requests, stops it; resolves with the spans. */
async function runApp(t: Test, entry: string): Promise<{ spans: ReceivedSpan[]; traceIds: string[]; stderr: string }> {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const dir = appFolder(t);
  const child = spawn(process.execPath, ['--import', REGISTER, path.join(dir, entry)], {
    cwd: dir,
    env: { ...cleanEnv(), TRACING_ENDPOINT: collector.otlpUrl, TRACING_SERVICE_NAME: 'builtin-loads', TRACING_BATCH_DELAY_MS: '50' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const ready = await new Promise<{ frontPort: number }>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as { frontPort: number });
    });
    void closed.then((code) => reject(new Error(`the app exited (${code}) before it was ready: ${stderr}`)));
  });
  const traceIds = [0, 1, 2].map(() => randomBytes(16).toString('hex'));
  const bodies = await Promise.all(traceIds.map((id) => get(ready.frontPort, id)));
  t.same(bodies, ['front', 'front', 'front'], 'each request reached the back through https');
  // Top-level client + per request: front server, https client, back server.
  const spans = await collector.waitForSpans(1 + 3 * 3, 10_000);
  child.stdin.end();
  const code = await closed;
  clearTimeout(killer);
  t.equal(code, 0, `the app exits cleanly: ${stderr}`);
  return { spans, traceIds, stderr };
}

function checkSpans(t: Test, spans: ReceivedSpan[], traceIds: string[]): void {
  const topLevel = spans.filter((s) => s.kind === CLIENT && String(s.attributes['http.url'] ?? '').includes('/top-level'));
  t.equal(topLevel.length, 1, 'the https request made right after the import has its client span');
  t.equal(topLevel[0]?.attributes['component'], 'https', 'from the https instrumentation');
  for (const traceId of traceIds) {
    const mine = spans.filter((s) => s.traceId === traceId);
    const front = mine.find((s) => s.kind === SERVER && String(s.attributes['http.url'] ?? '').includes('/front'));
    const client = mine.find((s) => s.kind === CLIENT && String(s.attributes['http.url'] ?? '').includes('/back'));
    const back = mine.find((s) => s.kind === SERVER && String(s.attributes['http.url'] ?? '').includes('/back'));
    t.ok(front, `request ${traceId.slice(0, 8)}: the http server span is in its own trace`);
    t.ok(client, `request ${traceId.slice(0, 8)}: the https client span too`);
    t.ok(back, `request ${traceId.slice(0, 8)}: and the https server span downstream`);
    if (front && client && back) {
      t.equal(client.parentSpanId, front.spanId, 'the client span is a child of the server span');
      t.equal(back.parentSpanId, client.spanId, 'the back server continues the client span (traceparent sent)');
    }
  }
}

t.test('an app that loads nothing: the agent loads neither http nor https (nor tls)', async (t) => {
  const dir = appFolder(t);
  for (const entry of ['empty.cjs', 'empty.mjs']) {
    // Untracked: without the NODE_OPTIONS tap's process tracking adds to every child. (net is not checked: stdout and stderr are pipes here, which Node serves with net.)
    const r = runNodeUntracked(['--import', REGISTER, path.join(dir, entry)], {
      cwd: dir,
      env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug' },
    });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /hooks installed/, `${entry}: the agent started`);
    t.same((JSON.parse(r.stdout.trim()) as { loaded: string[] }).loaded, [], `${entry}: none of them is loaded`);
  }
});

for (const entry of ['https-then-http.mjs', 'http-then-later-https.mjs', 'https-then-later-http.mjs', 'get-builtin-module.cjs']) {
  t.test(`${entry}: the first call after each load is traced, three concurrent requests each in its own trace`, async (t) => {
    const { spans, traceIds } = await runApp(t, entry);
    checkSpans(t, spans, traceIds);
  });
}
