import t from 'tap';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { cleanEnv, ROOT } from '../../helpers/run-node.js';
import { Collector } from '../../helpers/collector.js';

// Under tap, every child also loads signal-exit (tap's process-info hook); these tests therefore
// also prove the hooks cooperate with it instead of waiting on each other.
const APP = path.join(ROOT, 'test/integration/export/fixtures/exit-app.cjs');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the fixture; once it says "ready", optionally sends `signal`. Killed after 20 s. */
function run(env: Record<string, string>, signal?: NodeJS.Signals): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [APP], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (signal !== undefined && d.includes('ready')) child.kill(signal);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(killer);
      resolve({ code, signal: sig, stdout, stderr, ms: Date.now() - started });
    });
  });
}

t.test('SIGTERM after N spans: all N delivered, and the process dies of SIGTERM as it would without the agent', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const without = await run({ MODE: 'none', END: 'signal', COLLECTOR_URL: collector.otlpUrl }, 'SIGTERM');
  const withAgent = await run({ MODE: 'agent', END: 'signal', SPANS: '7', COLLECTOR_URL: collector.otlpUrl }, 'SIGTERM');
  t.same({ code: without.code, signal: without.signal }, { code: null, signal: 'SIGTERM' }, 'baseline');
  t.same({ code: withAgent.code, signal: withAgent.signal }, { code: without.code, signal: without.signal }, withAgent.stderr);
  t.same(collector.spans.map((s) => s.name).sort(), Array.from({ length: 7 }, (_, i) => `request ${i}`).sort());
  t.ok(collector.spans.every((s) => s.kind === 2 && s.resource['service.name'] === 'exit-app'));
});

t.test('SIGINT behaves the same way', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const r = await run({ MODE: 'agent', END: 'signal', SPANS: '3', COLLECTOR_URL: collector.otlpUrl }, 'SIGINT');
  t.same({ code: r.code, signal: r.signal }, { code: null, signal: 'SIGINT' });
  t.equal(collector.spans.length, 3);
});

t.test('an app with its own SIGTERM listener keeps control of its exit; spans still arrive', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const r = await run({ MODE: 'agent', END: 'signal', OWN_LISTENER: '1', SPANS: '4', COLLECTOR_URL: collector.otlpUrl }, 'SIGTERM');
  t.match(r.stdout, /app cleanup/);
  t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null }, 'the app ended itself, normally');
  t.equal(collector.spans.length, 4);
});

t.test('an app that simply ends gets its spans flushed on beforeExit', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const r = await run({ MODE: 'agent', END: 'natural', SPANS: '5', COLLECTOR_URL: collector.otlpUrl });
  t.equal(r.code, 0, r.stderr);
  t.equal(collector.spans.length, 5);
  t.equal(collector.requests.length, 1, 'one flush, no loop of beforeExit flushes');
});

t.test('a backend that never answers holds the exit no longer than the flush deadline', async (t) => {
  const collector = await Collector.start({ fault: { hang: true } });
  t.teardown(() => collector.close());
  const r = await run({ MODE: 'agent', END: 'natural', SPANS: '5', EXIT_TIMEOUT_MS: '300', COLLECTOR_URL: collector.otlpUrl });
  t.equal(r.code, 0, r.stderr);
  // The exporter's own timeout is 10 s; ending well before it shows the deadline, not the timeout, ruled.
  t.ok(r.ms < 8000, `exited after ${r.ms} ms`);
  t.equal(collector.requests.length, 1, 'one bounded attempt');
});

t.test('an unreachable backend does not delay the exit past the deadline either', async (t) => {
  const collector = await Collector.start();
  const url = collector.otlpUrl;
  await collector.close();
  const r = await run({ MODE: 'agent', END: 'signal', SPANS: '2', EXIT_TIMEOUT_MS: '300', COLLECTOR_URL: url }, 'SIGTERM');
  t.same({ code: r.code, signal: r.signal }, { code: null, signal: 'SIGTERM' });
  t.ok(r.ms < 8000, `exited after ${r.ms} ms`);
});
