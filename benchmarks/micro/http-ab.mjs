// Two builds of the agent on the same http apps, interleaved in one run with a no-agent baseline, so
// that a change to a hot path is measured before/after with the drift of a shared machine hitting all
// three alike. Apps (benchmarks/overhead/apps):
//   hello  http.mjs       a node:http hello world (GET)
//   fetch  fetch.mjs      a server whose handler makes one global fetch to a backend (GET)
//   body   http-body.mjs  reads a small POST body by 'data'/'end', then answers (the body events run
//                         in the server span's context: the path context continuity adds work to)
//   express  express.mjs  express 5, one middleware and a parametrised route (GET /users/42)
//   fastify  fastify.mjs  fastify 5, the same route
//   otel   otel-span.mjs  one OpenTelemetry API span per request (startActiveSpan): the agent's API bridge
// Each variant is one long-lived process that runs the app and its load (raw keep-alive sockets, one
// request in flight per connection) and reports its own CPU time per request (process.cpuUsage, µs
// resolution): the load's share is the same in every variant, so differences are the agent's. Rounds
// alternate the variants' order; warm processes keep JIT state out of the figures.
// Each build is a checkout with `npm run build` done (a `git archive` of another commit with a
// node_modules symlink and `npx tsc -p tsconfig.json` will do); the apps come from this checkout.
// Run: node benchmarks/micro/http-ab.mjs <checkout A> <checkout B> [rounds=30] [seconds=0.5] [connections=8] [apps=hello,fetch,body]
// BENCH_VERBOSE=1 prints every round. BENCH_PROTOCOL=grpc exports over OTLP/gRPC (to an HTTP/2 sink) instead.
// BENCH_SAMPLER=always_off measures unsampled requests (TRACING_SAMPLER); BENCH_EXPORTER=none keeps spans unexported.
import { fork, spawn } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launcherFolder } from '../overhead/app-folder.mjs';
import { listeningPort } from './app-port.mjs';
import { loadSockets } from './socket-load.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const APP_FILES = {
  hello: here('../overhead/apps/http.mjs'), fetch: here('../overhead/apps/fetch.mjs'), body: here('../overhead/apps/http-body.mjs'),
  express: here('../overhead/apps/express.mjs'), fastify: here('../overhead/apps/fastify.mjs'), otel: here('../overhead/apps/otel-span.mjs'),
};
const MARKERS = { hello: 'hello world', fetch: 'upstream: hello world', body: 'got 64 bytes', express: '"name":"Ada"', fastify: '"name":"Ada"', otel: 'hello world' };
const BODY = 'x'.repeat(64);
const REQUESTS = {
  hello: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  fetch: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  body: `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
  express: 'GET /users/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  fastify: 'GET /users/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  otel: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
};

if (process.argv[2] === 'child') await child(process.argv[3], Number(process.argv[4]));
else await parent();

/** Runs one app in this process and, on request, its load; answers each round with CPU µs per request. */
async function child(app, connections) {
  process.env.PORT = '0';
  const port = await listeningPort(APP_FILES[app]);
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') process.exit(0);
    const before = process.cpuUsage();
    const count = await loadSockets({ port, request: REQUESTS[app], marker: MARKERS[app], connections, ms: msg.ms });
    const used = process.cpuUsage(before);
    // A round that completed nothing (the machine starved it) has no figure.
    process.send({ count, cpuUs: count > 0 ? (used.user + used.system) / count : NaN });
  });
  process.send({ ready: true });
}

async function parent() {
  const [a, b, ...rest] = process.argv.slice(2);
  if (a === undefined || b === undefined) {
    console.error('usage: node benchmarks/micro/http-ab.mjs <checkout A> <checkout B> [rounds] [seconds] [connections] [apps]');
    process.exit(2);
  }
  const [rounds = 30, seconds = 0.5, connections = 8] = rest.slice(0, 3).map(Number);
  const apps = (rest[3] ?? 'hello,fetch,body').split(',');
  const builds = { 'no agent': null, A: path.resolve(a), B: path.resolve(b) };
  const names = Object.keys(builds);

  let exportedBytes = 0;
  const sink = http.createServer((req, res) => {
    req.on('data', (c) => (exportedBytes += c.length)).on('end', () => res.writeHead(200).end());
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  let endpoint = `http://127.0.0.1:${sink.address().port}/v1/traces`;
  const grpc = process.env.BENCH_PROTOCOL === 'grpc';
  if (grpc) {
    // An empty ExportTraceServiceResponse and grpc-status 0 for every call.
    const grpcSink = http2.createServer();
    grpcSink.on('stream', (stream) => {
      stream.on('data', (c) => (exportedBytes += c.length));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.alloc(5));
      });
    });
    await new Promise((resolve) => grpcSink.listen(0, '127.0.0.1', resolve));
    grpcSink.unref();
    endpoint = `http://127.0.0.1:${grpcSink.address().port}`;
  }
  // The fetch app's backend: a separate process without the agent.
  const backend = spawn(process.execPath, [APP_FILES.hello], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const backendPort = await new Promise((resolve) => {
    let out = '';
    backend.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });

  const start = (app, root) => {
    const env = { ...process.env, BACKEND_URL: `http://127.0.0.1:${backendPort}/` };
    if (root !== null) {
      Object.assign(env, { TRACING_EXPORTER: process.env.BENCH_EXPORTER ?? 'otlp', TRACING_ENDPOINT: endpoint, TRACING_SERVICE_NAME: `bench-${app}` }, grpc ? { TRACING_EXPORTER_PROTOCOL: 'grpc' } : {});
      if (process.env.BENCH_SAMPLER !== undefined) env.TRACING_SAMPLER = process.env.BENCH_SAMPLER;
    }
    // The child (this file, under the agent) starts from a launcher outside this repository, as a user's app
    // would (../overhead/app-folder.mjs): from here the agent would see its devDependencies.
    const launcher = launcherFolder(fileURLToPath(import.meta.url));
    const proc = fork(launcher.file, ['child', app, String(connections)], {
      cwd: launcher.dir, env, execArgv: root === null ? [] : ['--import', path.join(root, 'register.mjs')], stdio: 'inherit',
    });
    return new Promise((resolve) => proc.once('message', () => resolve(proc)));
  };
  const round = (proc, ms) => new Promise((resolve) => {
    proc.once('message', resolve);
    proc.send({ cmd: 'run', ms });
  });
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

  console.log(`node ${process.version}, ${rounds} rounds x ${seconds}s, ${connections} connections, OTLP ${grpc ? 'gRPC' : 'HTTP'}, exporter ${process.env.BENCH_EXPORTER ?? 'otlp'}, sampler ${process.env.BENCH_SAMPLER ?? 'default'}; A = ${builds.A}, B = ${builds.B}`);
  for (const app of apps) {
    const procs = {};
    for (const name of names) procs[name] = await start(app, builds[name]);
    for (const name of names) await round(procs[name], 2000); // warm-up: JIT, sockets, first export
    const cpu = Object.fromEntries(names.map((n) => [n, []]));
    const rps = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? names : [...names].reverse()) {
        const m = await round(procs[name], seconds * 1000);
        cpu[name].push(m.cpuUs);
        rps[name].push(m.count / seconds);
      }
      if (process.env.BENCH_VERBOSE) console.log(`${app} round ${r + 1}: ${names.map((n) => `${n} ${cpu[n][r].toFixed(2)} µs (${rps[n][r].toFixed(0)} req/s)`).join(', ')}`);
    }
    for (const proc of Object.values(procs)) proc.send({ cmd: 'stop' });
    // On a shared machine CPU time itself inflates (steal, cache and SMT contention): the fastest of
    // many short rounds is the least disturbed figure; the median is printed beside it.
    for (const [label, pickAll] of [['fastest', (xs) => Math.min(...xs)], ['median', median]]) {
      const pick = (xs) => pickAll(xs.filter((x) => !Number.isNaN(x)));
      const base = pick(cpu['no agent']);
      console.log(`${app}: ${label} CPU per request (app + its load): ${names.map((n) => `${n} ${pick(cpu[n]).toFixed(2)} µs${n === 'no agent' ? '' : ` (agent +${(pick(cpu[n]) - base).toFixed(2)})`}`).join(', ')}; B − A ${(pick(cpu.B) - pick(cpu.A)).toFixed(2)} µs`);
    }
    // Paired per round: the same minutes of machine weather for A and B.
    const diffs = cpu.A.map((x, i) => cpu.B[i] - x).filter((d) => !Number.isNaN(d));
    console.log(`${app}: B − A paired by round: median ${median(diffs).toFixed(2)} µs`);
  }
  console.log(`exported ${(exportedBytes / 1e6).toFixed(1)} MB in all`);
  backend.kill('SIGTERM');
  sink.close();
  process.exit(0);
}
