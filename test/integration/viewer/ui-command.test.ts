import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { parseUiArgs } from '../../../src/cli/ui-command.js';
import { isLoopbackHost } from '../../../src/viewer/loopback.js';
import { Collector } from '../../helpers/collector.js';
import { cleanEnv, REGISTER, ROOT, runNode } from '../../helpers/run-node.js';
import { getJson, postOtlp, request } from './viewer-client.js';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const TRACE = '0af7651916cd43dd8448eb211c80319c';

interface Running {
  child: ChildProcess;
  webUrl: string;
  otlpUrl: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `tracing-agent ui` on free ports and waits for its start-up lines. */
function startUi(t: Test, args: string[], nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'ui', '--port', '0', '--otlp-port', '0', '--otlp-grpc-port', '0', ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    t.teardown(() => {
      clearTimeout(killer);
      child.kill('SIGKILL');
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const web = /Traces: (http:\S+)/.exec(out);
      const otlp = /OTLP: +(http:\S+)/.exec(out);
      if (web !== null && otlp !== null) resolve({ child, webUrl: web[1]!, otlpUrl: otlp[1]!, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((e) => reject(new Error(`ui exited early (${e.code}): ${out}${err}`)));
  });
}

function body(spanId: string, name: string): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cli-test' } }] }, scopeSpans: [{ spans: [{ traceId: TRACE, spanId, name, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' }] }] }] });
}

t.test('prints both addresses; SIGTERM closes cleanly and the --file holds every span; a restart loses nothing', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'traces.jsonl');
  const first = await startUi(t, ['--file', file]);
  t.match(first.webUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.match(first.otlpUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
  t.equal((await postOtlp(first.otlpUrl, body('00f067aa0ba902b7', 'one'), 'application/json')).status, 200);
  t.equal((await postOtlp(first.otlpUrl, body('00f067aa0ba902b8', 'two'), 'application/json')).status, 200);
  first.child.kill('SIGTERM');
  const end = await first.exited;
  t.same(end, { code: 0, signal: null }, 'exit code 0 after SIGTERM');
  t.match(first.stdout(), /Stopped \(SIGTERM\)/);
  t.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 2);

  const second = await startUi(t, ['--file', file]);
  t.match(second.stdout(), /Loaded 2 spans \(1 traces\) from .*traces\.jsonl\n/);
  const trace = await getJson(`${second.webUrl}/api/traces/${TRACE}`);
  t.same(trace.spans.map((s: any) => s.name), ['one', 'two']);
  second.child.kill('SIGINT');
  t.equal((await second.exited).code, 0, 'Ctrl-C too');
});

t.test('a port in use: one clear line and exit code 1', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const r = await runNode([CLI, 'ui', '--port', '0', '--otlp-port', String(port), '--otlp-grpc-port', '0'], { timeoutMs: 15_000 });
  t.equal(r.code, 1);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.match(r.stderr, new RegExp(`OTLP port ${port} on 127\\.0\\.0\\.1 is already in use.*--otlp-port`));
});

t.test('an unusable --file: one clear line and exit code 1', async (t) => {
  const r = await runNode([CLI, 'ui', '--port', '0', '--otlp-port', '0', '--file', path.join(os.tmpdir(), 'no-such-dir-viewer', 'x', 'traces.jsonl')], { timeoutMs: 15_000 });
  t.equal(r.code, 1);
  t.match(r.stderr, /^tracing-agent ui: cannot use --file .*traces\.jsonl: ENOENT/);
  t.equal(r.stderr.trim().split('\n').length, 1);
});

t.test('bad flags: usage and exit code 2; --help: usage and 0', async (t) => {
  for (const args of [['--bogus'], ['--port'], ['--port', 'abc'], ['--max-spans', '0'], ['--port', '70000'], ['--port', '5000', '--otlp-port', '5000'], ['--file'], ['--otlp-grpc-port', 'x'], ['--otlp-grpc-port', '5000', '--port', '5000']]) {
    const r = await runNode([CLI, 'ui', ...args], { timeoutMs: 15_000 });
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /Usage: tracing-agent ui/);
  }
  const help = await runNode([CLI, 'ui', '--help'], { timeoutMs: 15_000 });
  t.equal(help.code, 0);
  t.match(help.stdout, /--max-spans N/);
  const top = await runNode([CLI, '--help'], { timeoutMs: 15_000 });
  t.match(top.stdout, /ui +receive traces over OTLP/, 'listed beside config');
});

t.test('option parsing and the exposure check', async (t) => {
  t.same(parseUiArgs(['--port=8080', '--otlp-port', '4319', '--host', '::1', '--max-spans', '500', '--file', 'x.jsonl']), { port: 8080, otlpPort: 4319, host: '::1', maxSpans: 500, file: 'x.jsonl' });
  t.same(parseUiArgs(['--otlp-grpc-port', '4417']), { otlpGrpcPort: 4417 });
  t.same(parseUiArgs(['--otlp-grpc-port=off']), { otlpGrpcPort: null });
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) t.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.4', 'example.com']) t.notOk(isLoopbackHost(h), h);
});

t.test('started under the agent by accident, the viewer does not trace its own requests', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const ui = await startUi(t, [], ['--import', REGISTER], { TRACING_ENDPOINT: collector.otlpUrl, TRACING_SERVICE_NAME: 'viewer-itself', TRACING_BATCH_DELAY_MS: '50', TRACING_LOG_LEVEL: 'info' });
  t.equal((await postOtlp(ui.otlpUrl, body('00f067aa0ba902b7', 'one'), 'application/json')).status, 200);
  t.equal((await request(`${ui.webUrl}/api/traces`)).status, 200);
  ui.child.kill('SIGTERM');
  t.equal((await ui.exited).code, 0);
  t.match(ui.stderr(), /\[tracing-agent\] info:/, 'the agent did start in the viewer process');
  t.same(collector.spans.filter((s) => s.resource['service.name'] === 'viewer-itself').map((s) => s.name), [], 'no spans from the viewer process');
  t.same(collector.decodeErrors, []);
});

t.test('the OTLP/gRPC port: printed, taken explicitly is an error, its default taken is a warning and the viewer runs', async (t) => {
  const ui = await startUi(t, []);
  t.match(ui.stdout(), /OTLP\/gRPC: http:\/\/127\.0\.0\.1:\d+ /);
  ui.child.kill('SIGTERM');
  t.equal((await ui.exited).code, 0);

  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const r = await runNode([CLI, 'ui', '--port', '0', '--otlp-port', '0', '--otlp-grpc-port', String(port)], { timeoutMs: 15_000 });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`OTLP/gRPC port ${port} on 127\\.0\\.0\\.1 is already in use.*--otlp-grpc-port`));

  // The default port (4317) held here, or by anything else on this machine: either way it is taken.
  const holder = net.createServer();
  await new Promise<void>((r) => holder.once('error', () => r()).listen(4317, '127.0.0.1', () => r()));
  t.teardown(() => holder.close());
  const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--otlp-port', '0'], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  await new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('Stop with')) resolve(); }));
  t.match(err, /warning: OTLP\/gRPC port 4317 on 127\.0\.0\.1 is already in use.*--otlp-grpc-port/);
  t.notMatch(out, /OTLP\/gRPC:/, 'no gRPC line');
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.on('exit', r)), 0);
});
