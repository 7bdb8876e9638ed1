// Cache misses per request of a cache-cold server: the footprint of a request (the distinct code and data
// lines it touches), counted by callgrind's cache simulator, where a clock figure at a fixed rate moves
// with whatever else ran on the core between two requests. The plain-http server
// (benchmarks/overhead/apps/http.mjs) runs under `valgrind --tool=callgrind --cache-sim=yes` with a fixed
// simulated cache (default I1 and D1 32 KiB 8-way, LL 2 MiB 16-way, 64-byte lines: one core's L1 and L2
// of this machine's kind) and the preload cache-flush.mjs, which empties D1 and LL on the driver's word.
// The server warms up uninstrumented (--instr-atstart=no: V8's tiers as under load), then the counters run
// (`callgrind_control -i on`, which also empties the simulated caches) over windows of rounds:
//   flush   the flush alone, per round (the preload's own cost, the same in every variant);
//   cold    a request, then a flush, per round (twice, to show it repeats): minus the flush window, a
//           request's misses with caches emptied before it;
//   warm    requests one after another on the same connection, no flush (the closed loop's case).
// One keep-alive connection, one request at a time. OTLP batches go to a sink in this process only when
// full (TRACING_BATCH_DELAY_MS is an hour): windows of --window requests (a multiple of 512) hold the same
// number of sends in every variant, and the warm-up ends on a batch boundary.
// Counts are the server's main thread's (callgrind --separate-threads=yes): the work of V8's helper
// threads (TurboFan, concurrent marking, sweeping) falls in whichever window it happens to run.
// Per function (the first cold window, self counts, JIT code named from the server's --perf-basic-prof map):
// the functions with the most LL misses, and with --diff the functions whose misses differ most between
// two runs (the second variant of the first build against the first, e.g. otlp against unsampled).
// Usage: node benchmarks/micro/cache-misses.mjs [--agents /build/a[,/build/b]] [--variants none,unsampled,exporter-none,otlp]
//          [--window 512] [--warmup 6144] [--cycle N] [--node /path/to/node] [--functions 25] [--diff otlp,unsampled]
//          [--extra-bytes N] [--flush-bytes 4194304] [--I1 32768,8,64 --D1 32768,8,64 --LL 2097152,16,64] [--keep]
// Variants: none (no agent), unsampled (always_off), exporter-none (always_on, TRACING_EXPORTER=none),
// otlp (always_on, OTLP/HTTP protobuf to the sink). --extra-bytes: the preload reads that many more bytes
// after each flush of a cold round (the check that the cold count moves by bytes / 64 lines). Slow: some 2 – 4 minutes a server.
// Events (callgrind's names): Ir instructions; I1mr / D1mr / D1mw first-level misses (instruction fetch,
// data read, data write); ILmr / DLmr / DLmw last-level misses; "LL" below is ILmr + DLmr + DLmw.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVariants, startOtlpSink, variantEnv } from '../overhead/agent-variants.mjs';
import { appFolder } from '../overhead/app-folder.mjs';
import { jitNamer } from './perf-map.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const builds = arg('agents', root).split(',').map((b) => path.resolve(b));
const variants = arg('variants', 'none,unsampled,exporter-none,otlp').split(',');
const windowSize = Number(arg('window', '512'));
const warmup = Number(arg('warmup', '6144'));
// Warm-up requests per set of client connections (see the warm-up): by default a third of the warm-up, 4,096 at most.
const cycle = Number(arg('cycle', String(Math.min(4096, Math.max(1, Math.floor(warmup / 3))))));
// The flush alone is the same work every round: fewer rounds suffice.
const flushRounds = 64;
const node = arg('node', process.execPath);
const functions = Number(arg('functions', '25'));
const diff = arg('diff', 'otlp,unsampled').split(',');
const extraBytes = Number(arg('extra-bytes', '0'));
const flushBytes = Number(arg('flush-bytes', String(4 * 1024 * 1024)));
const caches = { I1: arg('I1', '32768,8,64'), D1: arg('D1', '32768,8,64'), LL: arg('LL', '2097152,16,64') };
const keep = process.argv.includes('--keep');
const EVENTS = ['Ir', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw'];

// A minute is not enough here: a server under callgrind can spend longer than that between two batches.
const sink = await startOtlpSink({ keepAliveTimeoutMs: 600_000 });
sink.server.unref();
const endpoint = sink.url;
// The shared variants (agent-variants.mjs): the same settings as the fixed-rate and GC benchmarks' rows of the
// same name; `otlp` and `exporter-none` are sampled by the agent's default sampler (no parent: always on).
const VARIANTS = variantEnv({ sinkUrl: endpoint });
checkVariants(variants, VARIANTS);

// The plain http app, from a folder of its own as a user's app (../overhead/app-folder.mjs).
const app = appFolder('http');

async function serve(build, variant) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'cache-misses-'));
  const out = path.join(work, 'callgrind.out');
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  const agentEnv = VARIANTS[variant];
  const preload = agentEnv === null ? [] : ['--import', path.join(build, 'register.mjs')];
  const child = spawn('valgrind', ['--tool=callgrind', '--cache-sim=yes', `--I1=${caches.I1}`, `--D1=${caches.D1}`, `--LL=${caches.LL}`,
    '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`, node, '--random-seed=42', '--perf-basic-prof', ...preload,
    '--import', path.join(here, 'cache-flush.mjs'), app.file], {
    cwd: app.dir,
    env: {
      ...env, PORT: '0', TRACING_LOG_LEVEL: 'error', TRACING_ENDPOINT: endpoint, TRACING_BATCH_DELAY_MS: '3600000',
      COLD_FLUSH_BYTES: String(flushBytes), COLD_EXTRA_BYTES: String(extraBytes), ...(agentEnv ?? {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    let text = '';
    let acks = 0;
    let onAck = null;
    const port = await new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      child.stdout.setEncoding('latin1');
      child.stdout.on('data', (d) => {
        text += d;
        const m = /listening on (\d+)/.exec(text);
        if (m) text = '';
        if (m) resolve(Number(m[1]));
        for (const c of d) if (c === 'k') {
          acks++;
          onAck?.();
        }
      });
    });
    const control = (...a) => execFileSync('callgrind_control', [...a, String(child.pid)], { stdio: 'ignore' });
    // `g`: the flush, then the --extra-bytes (in the rounds with a request only).
    const flush = (word = 'f') => new Promise((resolve) => {
      const want = acks + 1;
      onAck = () => acks >= want && resolve();
      child.stdin.write(`${word}\n`);
    });
    let agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const request = (via = agent) => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: via }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    // Warm-up as under load: 8 connections, 3 requests in flight, new connections at the end. The connections
    // are also replaced every --cycle requests (the old ones closed once their requests are answered), as a
    // server's clients come and go: the first connection a server sees close takes its sockets and streams
    // through paths that change their objects' maps, and every optimized function that checked the old maps
    // deoptimizes (Node's streams, parserOnIncoming, our startServerSpan and emit wrappers). Closed only at the
    // warm-up's end, that happened just before the measured windows, which then ran some functions in
    // Sparkplug's code and its inline caches until TurboFan compiled them again, at a point that varied by run.
    let sent = 0;
    let resets = 0;
    const open = new Map();
    await new Promise((resolve, reject) => {
      let active = 0;
      const fire = () => {
        sent++;
        active++;
        if (sent % cycle === 0 && sent + cycle <= warmup) agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        const via = agent;
        open.set(via, (open.get(via) ?? 0) + 1);
        // A keep-alive connection the server closed as the agent reused it (idle past the server's 5-s timeout:
        // under valgrind on a loaded machine some of the 8 sit that long) resets the request: sent again
        // (warm-up only, not counted; the measured windows use one connection that is never idle that long).
        request(via).catch((err) => {
          if (err.code !== 'ECONNRESET') throw err;
          resets++;
          return request(via);
        }).then(() => {
          active--;
          const left = open.get(via) - 1;
          open.set(via, left);
          if (left === 0 && via !== agent) {
            via.destroy();
            open.delete(via);
          }
          if (sent < warmup) fire();
          else if (active === 0) resolve();
        }, reject);
      };
      for (let i = 0; i < 3; i++) fire();
    });
    if (resets > 0) console.error(`${path.basename(build)} ${variant}: ${resets} warm-up request(s) sent again after a reset`);
    for (let i = 0; i < 100; i++) await flush();
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    control('-i', 'on');
    // Instrumented warm-up (new translations, the new connection): not counted.
    for (let i = 0; i < 64; i++) {
      await request();
      await flush();
    }
    control('-d');
    const windows = ['flush', 'cold', 'cold', 'warm'];
    for (const w of windows) {
      for (let i = 0; i < (w === 'flush' ? flushRounds : windowSize); i++) {
        if (w !== 'flush') await request();
        if (w !== 'warm') await flush(w === 'cold' ? 'g' : 'f');
      }
      await new Promise((r) => setTimeout(r, 300));
      control('-d');
    }
    agent.destroy();
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    // The main thread's files (`-01`): V8's compiler and GC helper threads run on their own schedule and
    // would make a window's totals swing by what they happened to do in it.
    const files = readdirSync(work).filter((f) => /^callgrind\.out\.\d+-01$/.test(f)).sort((a, b) => parseInt(a.split('.').pop(), 10) - parseInt(b.split('.').pop(), 10));
    // files[0] is the instrumented warm-up; then one per window.
    const counted = files.slice(1).map((f) => totals(path.join(work, f)));
    const perfMap = `/tmp/perf-${child.pid}.map`;
    const byFunction = ownCounts(path.join(work, files[2]), perfMap);
    if (keep && existsSync(perfMap)) copyFileSync(perfMap, path.join(work, `perf-${child.pid}.map`));
    rmSync(perfMap, { force: true });
    return { windows: Object.fromEntries([['flush', counted[0]], ['cold1', counted[1]], ['cold2', counted[2]], ['warm', counted[3]]]), byFunction };
  } finally {
    child.kill('SIGKILL');
    if (keep) console.error(`${path.basename(build)} ${variant}: callgrind files kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** The file's totals per event. */
function totals(file) {
  const text = readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(text)[1].trim().split(/\s+/);
  const values = /^(?:summary|totals): (.*)$/m.exec(text)[1].trim().split(/\s+/).map(Number);
  return Object.fromEntries(EVENTS.map((e) => [e, values[events.indexOf(e)] ?? 0]));
}

/** Self counts per function of one window, JIT code named by the perf map's address ranges. */
function ownCounts(file, perfMap) {
  const jitName = jitNamer(perfMap, (name) => name.replace(/ \/\S*\/(dist|benchmarks)\//, ' $1/'));
  const annotated = execFileSync('callgrind_annotate', [`--show=${EVENTS.join(',')}`, '--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const own = new Map();
  for (const line of annotated.split('\n')) {
    const m = /^\s*((?:(?:[\d,]+(?: \(\s*[\d.]+%\))?|\.)\s+){7})(\S.*)$/.exec(line);
    if (m === null || /PROGRAM TOTALS/.test(m[2])) continue;
    const values = m[1].replace(/\([^)]*\)/g, '').trim().split(/\s+/).map((v) => (v === '.' ? 0 : Number(v.replace(/,/g, ''))));
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(m[2]);
    const name = jit === null ? m[2].replace(/^\?\?\?:/, '').replace(/ \[.*\]$/, '').replace(/\(.*$/, '') : jitName(parseInt(jit[1], 16)) ?? 'JIT code, unnamed';
    const row = own.get(name) ?? EVENTS.map(() => 0);
    values.forEach((v, i) => (row[i] += v));
    own.set(name, row);
  }
  return own;
}

const ll = (c) => c.ILmr + c.DLmr + c.DLmw;
const per = (a, b, n) => Object.fromEntries(EVENTS.map((e) => [e, (a[e] - (b?.[e] ?? 0)) / n]));
const sub = (cold, flush) => Object.fromEntries(EVENTS.map((e) => [e, cold[e] / windowSize - flush[e] / flushRounds]));
const fmt = (c) => `${(c.Ir / 1000).toFixed(1)} k | ${c.I1mr.toFixed(0)} | ${c.D1mr.toFixed(0)} | ${c.D1mw.toFixed(0)} | ${c.ILmr.toFixed(0)} | ${c.DLmr.toFixed(0)} | ${c.DLmw.toFixed(0)} | **${ll(c).toFixed(0)}**`;
const results = [];
for (const build of builds) {
  for (const variant of variants) {
    if (variant === 'none' && build !== builds[0]) continue;
    const started = new Date().toISOString().slice(11, 19);
    const r = await serve(build, variant);
    results.push({ build, variant, started, ...r });
  }
}
console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, http app under callgrind --cache-sim=yes, I1 ${caches.I1}, D1 ${caches.D1}, LL ${caches.LL}; flush ${flushBytes} bytes${extraBytes ? `, extra ${extraBytes} bytes after each flush` : ''}; windows of ${windowSize} rounds after ${warmup} uninstrumented requests`);
console.log('per request: cold = (request + flush) − flush alone; warm = one request after another, no flush; LL = ILmr + DLmr + DLmw');
console.log('');
console.log('| build | variant | window | Ir | I1mr | D1mr | D1mw | ILmr | DLmr | DLmw | LL |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const name = `${path.basename(r.build)} | ${r.variant}`;
  console.log(`| ${name} | flush alone (${r.started}) | ${fmt(per(r.windows.flush, null, flushRounds))} |`);
  console.log(`| ${name} | cold, 1 | ${fmt(sub(r.windows.cold1, r.windows.flush))} |`);
  console.log(`| ${name} | cold, 2 | ${fmt(sub(r.windows.cold2, r.windows.flush))} |`);
  console.log(`| ${name} | warm | ${fmt(per(r.windows.warm, null, windowSize))} |`);
}
const show = (row) => `${(row[0] / windowSize / 1000).toFixed(2).padStart(7)} k Ir ${(row[1] / windowSize).toFixed(1).padStart(6)} I1mr ${((row[2] + row[3]) / windowSize).toFixed(1).padStart(6)} D1m ${((row[4] + row[5] + row[6]) / windowSize).toFixed(1).padStart(6)} LL (${(row[4] / windowSize).toFixed(1).padStart(5)} code, ${((row[5] + row[6]) / windowSize).toFixed(1).padStart(5)} data)`;
// The agent's own JavaScript (JIT code from a build's dist/) and the C++ builtin its encoder calls.
const OURS = / dist\/|Builtin_TypedArrayPrototypeCopyWithin/;
console.log('');
console.log('the agent\'s JavaScript (dist/) and copyWithin, first cold window, own counts per round:');
for (const r of results) {
  const sum = EVENTS.map(() => 0);
  for (const [name, row] of r.byFunction) if (OURS.test(name)) row.forEach((v, i) => (sum[i] += v));
  console.log(`${show(sum)}  ${path.basename(r.build)} ${r.variant}`);
}
if (functions > 0) {
  for (const r of results) {
    console.log('');
    console.log(`${path.basename(r.build)} ${r.variant}, first cold window (flush included), own counts per round, the ${functions} with the most LL misses:`);
    const rows = [...r.byFunction].sort((a, b) => (b[1][4] + b[1][5] + b[1][6]) - (a[1][4] + a[1][5] + a[1][6])).slice(0, functions);
    for (const [name, row] of rows) console.log(`${show(row)}  ${name}`);
  }
  for (const build of builds) {
    const a = results.find((r) => r.build === build && r.variant === diff[0]);
    const b = results.find((r) => r.build === build && r.variant === diff[1]);
    if (a === undefined || b === undefined) continue;
    console.log('');
    console.log(`${path.basename(build)}: ${diff[0]} − ${diff[1]}, first cold window, by function (LL then I1 misses), per round:`);
    const names = new Set([...a.byFunction.keys(), ...b.byFunction.keys()]);
    const zero = EVENTS.map(() => 0);
    const d = [...names].map((n) => [n, (a.byFunction.get(n) ?? zero).map((v, i) => v - (b.byFunction.get(n) ?? zero)[i])]);
    const key = (row) => Math.abs(row[4] + row[5] + row[6]) * 4 + Math.abs(row[1]);
    for (const [name, row] of d.sort((x, y) => key(y[1]) - key(x[1])).slice(0, functions)) console.log(`${show(row)}  ${name}`);
  }
}
