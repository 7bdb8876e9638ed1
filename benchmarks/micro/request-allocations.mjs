// Bytes a request allocates on the JavaScript heap, counted exactly (round fourteen): the plain http app
// (the same handler as benchmarks/overhead/apps/http.mjs) in a child process, with or without the agent
// (`--import <build>/register.mjs`), served to clients in that same process that speak HTTP over raw `net`
// sockets (no http client: nothing traced, the same bytes whatever the variant). The young generation is made
// large (--min/--max-semi-space-size) so that most windows hold no scavenge: a window's allocation is then the
// growth of `used_heap_size`, and windows a collection fell in are dropped. The exporter's batches (every 512
// spans, to an OTLP/HTTP sink in this process) fall inside the windows, so their share is in the figure.
// Differences between variants and builds are what the agent allocates; the client's own share is the same
// in every row. Counts, not time: any load gives the same figure (within a few bytes).
// Usage: node benchmarks/micro/request-allocations.mjs --agents /build/a[,/build/b] [--variants none,floor,unsampled,exporter-none,otlp]
//        [--app http|express|fastify] [--node /path/to/node] [--warmup 30000] [--window 4096] [--windows 8]
//        [--connections 4] [--repeat 1] [--env VAR=value[+VAR=value]] [--profile /dir [--interval 64]]
// --app: express and fastify are benchmarks/overhead/apps' (GET /users/42), imported into the child;
// variant floor: benchmarks/micro/als-floor's preload instead of the agent (one AsyncLocalStorage per request).
// --repeat N: N processes per build and variant, interleaved; the figure is their median.
// --profile /dir: instead of counting, runs V8's sampling heap profiler over the windows and writes one
// profile per build and variant there (read with ../cpu/heap-profile-summary.mjs: bytes a request by
// allocating function); the counts of such a run include the profiler's own allocations.
import { spawn } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import v8 from 'node:v8';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const warmup = Number(arg('warmup', '30000'));
const windowSize = Number(arg('window', '4096'));
const windows = Number(arg('windows', '8'));
const connections = Number(arg('connections', '4'));
const repeat = Number(arg('repeat', '1'));
// --app express|fastify: that overhead app (benchmarks/overhead/apps) instead of the inline hello world.
const APP_PATHS = { http: '/', express: '/users/42', fastify: '/users/42' };
if (APP_PATHS[arg('app', 'http')] === undefined) {
  console.error(`--app: one of ${Object.keys(APP_PATHS).join(', ')}`);
  process.exit(2);
}

if (process.argv.includes('--child')) {
  let gcs = 0;
  new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });
  const appName = arg('app', 'http');
  let port;
  if (appName === 'http') {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello world');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  } else {
    // The overhead app itself, imported here (so its server and these clients share the process): it
    // prints `listening on <port>`, which is read off console.log.
    const log = console.log;
    port = await new Promise((resolve, reject) => {
      console.log = (...a) => {
        const m = /listening on (\d+)/.exec(String(a[0]));
        if (m !== null) resolve(Number(m[1]));
      };
      process.env.PORT = '0';
      import(path.join(here, '..', 'overhead', 'apps', `${appName}.mjs`)).catch(reject);
    });
    console.log = log;
  }
  const request = Buffer.from(`GET ${APP_PATHS[appName]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  // Each app's body ends so; a response ends with its body and never straddles reads here.
  const marker = Buffer.from(appName === 'http' ? 'hello world' : '"Ada"}');
  let answered = 0;
  let target = 0;
  let onTarget = null;
  const sockets = [];
  for (let i = 0; i < connections; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    // One request in flight per socket: a chunk with the body's end is one answer.
    socket.on('data', (chunk) => {
      if (chunk.indexOf(marker) === -1) return;
      answered++;
      if (answered === target) onTarget();
      else if (answered < target) socket.write(request);
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    sockets.push(socket);
  }
  const serve = (n) => new Promise((resolve) => {
    target = answered + n;
    onTarget = resolve;
    for (const s of sockets) s.write(request);
  });
  await serve(warmup);
  const profileOut = arg('profile', '');
  let session = null;
  if (profileOut !== '') {
    // Attribution instead of the count: V8's sampling heap profiler over `windows` windows (it allocates
    // itself, so the count of such a run is not the figure).
    const inspector = await import('node:inspector');
    session = new inspector.Session();
    session.connect();
    await new Promise((resolve) => session.post('HeapProfiler.startSampling', { samplingInterval: Number(arg('interval', '64')), includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, resolve));
  }
  const perRequest = [];
  let dropped = 0;
  for (let w = 0; w < windows + 20 && perRequest.length < windows; w++) {
    // Let pending work (a batch's send, the observer's entries) settle, then count from here.
    await new Promise((r) => setTimeout(r, 20));
    const gcBefore = gcs;
    const before = v8.getHeapStatistics().used_heap_size;
    await serve(windowSize);
    const after = v8.getHeapStatistics().used_heap_size;
    await new Promise((r) => setImmediate(r));
    if (gcs !== gcBefore || after < before) dropped++;
    else perRequest.push((after - before) / windowSize);
  }
  if (session !== null) {
    const { writeFileSync } = await import('node:fs');
    const profile = await new Promise((resolve, reject) => session.post('HeapProfiler.stopSampling', (err, r) => (err ? reject(err) : resolve(r.profile))));
    writeFileSync(profileOut, JSON.stringify({ head: profile.head, requests: (windows + dropped) * windowSize }));
  }
  process.stdout.write(JSON.stringify({ perRequest, dropped }) + '\n');
  process.exit(0);
}

const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
const variants = arg('variants', 'none,unsampled,exporter-none,otlp').split(',');
const node = arg('node', process.execPath);
const profileDir = arg('profile', '') === '' ? '' : path.resolve(arg('profile', ''));
// --env VAR=value[+VAR=value]: more environment for the agent's processes (e.g. TRACING_DISABLED_INSTRUMENTATIONS=fastify).
const extraEnv = Object.fromEntries(arg('env', '').split('+').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

const sinkCounts = { payloads: 0 };
const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    sinkCounts.payloads++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
sink.keepAliveTimeout = 60_000;
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;
const ENV = {
  none: null,
  unsampled: { TRACING_SAMPLER: 'always_off', TRACING_ENDPOINT: sinkUrl },
  'exporter-none': { TRACING_EXPORTER: 'none' },
  otlp: { TRACING_ENDPOINT: sinkUrl },
  floor: null,
};

function run(agent, variant) {
  const extra = ENV[variant];
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|DD_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  Object.assign(env, { TRACING_SERVICE_NAME: 'alloc-bench', TRACING_LOG_LEVEL: 'error' }, extra ?? {}, extra === null ? {} : extraEnv);
  const args = ['--min-semi-space-size=64', '--max-semi-space-size=64', ...(variant === 'floor' ? ['--import', path.join(here, 'als-floor', 'register.mjs')] : extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]),
    fileURLToPath(import.meta.url), '--child', ...(profileDir === '' ? [] : ['--profile', path.join(profileDir, `${path.basename(agent)}-${variant}.heapprofile`), '--interval', arg('interval', '64')]), '--warmup', String(warmup), '--window', String(windowSize), '--windows', String(windows), '--connections', String(connections), '--app', arg('app', 'http')];
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${variant} exited ${code}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`${node}; warm-up ${warmup} requests, ${windows} windows of ${windowSize}, ${connections} connections, ${repeat} process(es) each, interleaved`);
console.log('| build | variant | bytes a request (median of processes; each the median of its windows) | processes (min – max) | windows dropped (a GC in them) | over no agent |');
console.log('|---|---|---:|---:|---:|---:|');
// Interleaved: every build and variant once, then again, so that a slow drift of the machine (none expected
// for a count) falls on all alike. A process's figure can differ from another's of the same build by tens of
// bytes when V8 optimised it otherwise (what escape analysis kept off the heap): hence several processes.
const rows = [];
for (const agent of agents) for (const variant of variants) if (!((variant === 'none' || variant === 'floor') && rows.some((r) => r.variant === variant))) rows.push({ agent, variant, runs: [], dropped: 0 });
for (let i = 0; i < repeat; i++) {
  for (const row of rows) {
    const r = await run(row.agent, row.variant);
    row.runs.push(median(r.perRequest));
    row.dropped += r.dropped;
  }
}
const none = rows.find((r) => r.variant === 'none');
const noneMedian = none === undefined ? null : median(none.runs);
for (const row of rows) {
  const m = median(row.runs);
  const label = row.variant === 'none' || row.variant === 'floor' ? '—' : path.basename(row.agent);
  console.log(`| ${label} | ${row.variant} | ${m.toFixed(1)} | ${row.runs.map((x) => x.toFixed(1)).join(', ')} | ${row.dropped} | ${noneMedian === null || row.variant === 'none' ? '' : `+${(m - noneMedian).toFixed(1)}`} |`);
}
sink.close();
