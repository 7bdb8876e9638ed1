// Requests per second of two apps, without and with the agent (`node --import register.mjs`, OTLP to a
// local sink), interleaved round by round in one run so that machine drift hits both alike:
//   hello  benchmarks/overhead/apps/http.mjs   a node:http hello world
//   fetch  benchmarks/overhead/apps/fetch.mjs  a server whose handler makes one global fetch to a backend
// The load comes from raw keep-alive sockets in this process (one request in flight per connection),
// cheap enough that the server, not the client, is the bottleneck.
// Run: npm run build && node benchmarks/micro/http-throughput.mjs [rounds=5] [seconds=3] [connections=16] [apps=hello,fetch]
// BENCH_EXPORTER=none measures the instrumentation alone (no export).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startOtlpSink } from '../overhead/agent-variants.mjs';
import { appFolder } from '../overhead/app-folder.mjs';
import { loadSockets } from './socket-load.mjs';

const [rounds = 5, seconds = 3, connections = 16] = process.argv.slice(2, 5).map(Number);
const apps = (process.argv[5] ?? 'hello,fetch').split(',');
const exporter = process.env.BENCH_EXPORTER ?? 'otlp';
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const REGISTER = here('../../register.mjs');
// Each app from a folder of its own, as a user's app (../overhead/app-folder.mjs).
const APP_FILES = { hello: appFolder('http'), fetch: appFolder('fetch') };
const MARKERS = { hello: 'hello world', fetch: 'upstream: hello world' };

/** Starts `node [--import register] <app>` from the app's folder and resolves with its port and a stop function. */
function startServer(file, { agent, env }) {
  const args = agent ? ['--import', REGISTER, file.file] : [file.file];
  const child = spawn(process.execPath, args, { cwd: file.dir, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: child.pid, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** Keeps `connections` sockets busy for `ms`; resolves with the number of complete responses. */
const load = (port, marker, ms) => loadSockets({ port, request: GET, marker, connections, ms });

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function measure(app, agent, sinkUrl, backendUrl) {
  const env = { BACKEND_URL: backendUrl };
  if (agent) Object.assign(env, { TRACING_EXPORTER: exporter, TRACING_ENDPOINT: sinkUrl, TRACING_SERVICE_NAME: `bench-${app}` });
  const server = await startServer(APP_FILES[app], { agent, env });
  try {
    await load(server.port, MARKERS[app], 1000); // warm-up: JIT, sockets, first export
    const cpuBefore = cpuSeconds(server.pid);
    const count = await load(server.port, MARKERS[app], seconds * 1000);
    // Server CPU per request is steadier than req/s on a shared machine: other load steals wall time
    // from both variants unevenly, but not the CPU each request costs.
    return { rps: count / seconds, cpuUsPerReq: ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / count };
  } finally {
    await server.stop();
  }
}

// The shared OTLP sink, keeping idle connections Node's default 5 s as this benchmark's own sink did.
const sink = await startOtlpSink({ keepAliveTimeoutMs: 5000 });
const sinkUrl = sink.url;
const backend = await startServer(APP_FILES.hello, { agent: false, env: {} });
const backendUrl = `http://127.0.0.1:${backend.port}/`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`node ${process.version}, ${rounds} rounds x ${seconds}s, ${connections} connections, exporter ${exporter}`);
for (const app of apps) {
  const results = { base: [], agent: [] };
  const cpu = { base: [], agent: [] };
  const before = { ...sink.counts };
  for (let r = 0; r < rounds; r++) {
    // Alternate which variant goes first, so neither always gets the warmer machine.
    const order = r % 2 === 0 ? [false, true] : [true, false];
    for (const agent of order) {
      const m = await measure(app, agent, sinkUrl, backendUrl);
      results[agent ? 'agent' : 'base'].push(m.rps);
      cpu[agent ? 'agent' : 'base'].push(m.cpuUsPerReq);
    }
    const i = results.base.length - 1;
    console.log(`${app} round ${r + 1}: no agent ${results.base[i].toFixed(0)} req/s (${cpu.base[i].toFixed(1)} µs CPU/req), agent ${results.agent[i].toFixed(0)} req/s (${cpu.agent[i].toFixed(1)} µs CPU/req), ratio ${(results.agent[i] / results.base[i]).toFixed(3)}`);
  }
  const ratios = results.base.map((b, i) => results.agent[i] / b);
  // Proof the agent really traced and exported: what reached the sink.
  console.log(`${app}: the sink got ${sink.counts.payloads - before.payloads} OTLP payloads, ${((sink.counts.bytes - before.bytes) / 1e6).toFixed(1)} MB`);
  console.log(`${app}: median no agent ${median(results.base).toFixed(0)} req/s, median agent ${median(results.agent).toFixed(0)} req/s, median ratio ${median(ratios).toFixed(3)}`);
  const cpuRatio = median(cpu.base) / median(cpu.agent);
  console.log(`${app}: median server CPU per request: no agent ${median(cpu.base).toFixed(1)} µs, agent ${median(cpu.agent).toFixed(1)} µs; throughput ratio at equal CPU ${cpuRatio.toFixed(3)}`);
}
await backend.stop();
await sink.close();
process.exit(0);
