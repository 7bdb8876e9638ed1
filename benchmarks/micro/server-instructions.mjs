// Instructions per request of the real plain-http server (benchmarks/overhead/apps/http.mjs), all
// threads, counted by valgrind's callgrind in windows of requests served: one server process per build
// (and one without the agent), driven by a client in this process, with callgrind's counters dumped and
// zeroed at each checkpoint (`callgrind_control -d`). Where the CPU of a request goes as the server warms
// up, and how much of it is V8's optimising compilers (TurboFan, Maglev, on its worker threads) and its
// scavenger, which a figure after a long warm-up (request-instructions.mjs) leaves out and a short
// benchmark window takes in. A count the machine's load does not change.
// Usage: node benchmarks/micro/server-instructions.mjs --agents /build/a[,/build/b] [--app http|express|fastify|fetch] [--checkpoints 2000,6000,11000,16000,21000,26000]
//        [--pattern overlap|seq] [--sampler always_off] [--node /path/to/node] [--exporter none|otlp]
//        [--one-at-a-time] [--no-agent-row no] [--functions N] [--seed 42] [--node-flags "…"] [--keep] [--reconnect]
// --pattern overlap: 8 keep-alive connections with 3 requests in flight (requests overlap, as under
// cpu-per-request.mjs's open-loop load); seq: one connection, one request at a time. Slow: valgrind runs
// Node ~50× slower (some 6 minutes for 26,000 requests); the servers run side by side, or one after
// another with --one-at-a-time (on a shared machine: one callgrind process at a time).
// --reconnect: the client closes its connections at every checkpoint and opens new ones, as
// cpu-per-request.mjs does (a new load process per warm-up and per slice) and as clients of a real server
// do; without it the 8 connections live for the whole run (on Node 20 a connection's end makes async
// resources, a ShutdownWrap, that a server which never loses a connection does not: see
// docs/performance.md, round ten of the exported span).
// --exporter otlp: the agent exports over OTLP/HTTP to a sink in this process (answers 200 at once, keeps
// connections a minute) instead of TRACING_EXPORTER=none; with --sampler always_on that is the exported
// span's path. --no-agent-row no: only the builds (differences are then taken against the first build).
// --functions N: the servers run with --perf-basic-prof, and the N JavaScript functions (and builtins)
// with the most instructions of their own in the last window are listed per build, JIT code named from
// Node's /tmp/perf-<pid>.map (self counts only: what V8 inlined is counted in the function it went into).
// Each --agents entry is `<build>[:<sampler>[:<VAR=value>+<VAR=value>...]]`: a built checkout (its
// register.mjs), `none` (one more server without the agent), or a preload `.mjs` (e.g.
// benchmarks/micro/als-floor/register.mjs, the floor of any AsyncLocalStorage tracer), with its own
// sampler (else --sampler) and environment (e.g. `TRACING_DISABLED_INSTRUMENTATIONS=fastify`); `SEED=n`
// sets that server's --random-seed (else --seed, 42: the same hash seed and layout choices every run).
// --node-flags "…": more flags for every server (e.g. --perf-basic-prof). --keep: the callgrind files
// are kept (their folders printed) with the process's perf map beside them, for callgrind-functions.mjs
// (two windows' functions side by side); /tmp's perf maps are the machine's and get pruned.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOtlpSink } from '../overhead/agent-variants.mjs';
import { appFolder } from '../overhead/app-folder.mjs';
import { jitNamer } from './perf-map.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
/** One server to run: a build (or a preload file, or none), its sampler, its extra environment. */
const parseAgent = (spec) => {
  const [where, ownSampler, vars] = spec.split(':');
  const env = vars ? Object.fromEntries(vars.split('+').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : {};
  return { spec, where: where === 'none' ? null : path.resolve(where), sampler: ownSampler || undefined, env };
};
const agents = arg('agents', root).split(',').map(parseAgent);
const checkpoints = arg('checkpoints', '2000,6000,11000,16000,21000,26000').split(',').map(Number);
const pattern = arg('pattern', 'overlap');
const sampler = arg('sampler', 'always_off');
const exporter = arg('exporter', 'none');
const oneAtATime = process.argv.includes('--one-at-a-time');
const withNoAgent = arg('no-agent-row', 'yes') !== 'no';
const functions = Number(arg('functions', '0'));
if (exporter !== 'none' && exporter !== 'otlp') {
  console.error('--exporter: none or otlp');
  process.exit(2);
}
const node = arg('node', process.execPath);
const seed = arg('seed', '42');
const nodeFlags = (arg('node-flags', '') ?? '').split(' ').filter(Boolean);
const keep = process.argv.includes('--keep');
const reconnect = process.argv.includes('--reconnect');
// --app picks another overhead app (express, fastify, fetch: its downstream service is served by this process).
const appName = arg('app', 'http');
const APP_PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/' };
const requestPath = APP_PATHS[appName];
if (requestPath === undefined) {
  console.error(`--app: one of ${Object.keys(APP_PATHS).join(', ')}`);
  process.exit(2);
}
// The app runs from a folder of its own, as a user's app (../overhead/app-folder.mjs).
const { dir: appDir, file: app } = appFolder(appName);
let backendUrl = '';
if (appName === 'fetch') {
  const backend = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello'));
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  backend.unref();
  backendUrl = `http://127.0.0.1:${backend.address().port}/`;
}

// The OTLP/HTTP sink of --exporter otlp.
let exporterEnv = { TRACING_EXPORTER: 'none' };
if (exporter === 'otlp') {
  const sink = await startOtlpSink();
  sink.server.unref();
  exporterEnv = { TRACING_ENDPOINT: sink.url };
}

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(1);
}

// Inclusive counts of these functions, per window: what V8 did besides running the requests.
const PARTS = {
  turbofan: 'compiler::PipelineCompilationJob::ExecuteJobImpl',
  maglev: 'maglev::MaglevCompilationJob::ExecuteJobImpl',
  scavenge: 'ScavengerCollector::CollectGarbage',
};

async function serve(build) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'server-instructions-'));
  const out = path.join(work, 'callgrind.out');
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  const { SEED: ownSeed, ...extraEnv } = build.env;
  const preload = build.where === null ? [] : ['--import', build.where.endsWith('.mjs') ? build.where : path.join(build.where, 'register.mjs')];
  const perfFlag = functions > 0 && !nodeFlags.includes('--perf-basic-prof') ? ['--perf-basic-prof'] : [];
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, node, `--random-seed=${ownSeed ?? seed}`, ...nodeFlags, ...perfFlag,
    ...preload, app], {
    cwd: appDir,
    env: { ...env, PORT: '0', BACKEND_URL: backendUrl, TRACING_LOG_LEVEL: 'error', TRACING_SAMPLER: build.sampler ?? sampler, ...exporterEnv, ...extraEnv },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    let text = '';
    const port = await new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      child.stdout.on('data', (d) => {
        text += d;
        const m = /listening on (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
    });
    const dump = () => execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    dump(); // start-up, its own window
    const newAgent = () => new http.Agent({ keepAlive: true, maxSockets: pattern === 'seq' ? 1 : 8 });
    let agent = newAgent();
    const inFlight = pattern === 'seq' ? 1 : 3;
    let sent = 0;
    for (const upTo of checkpoints) {
      await new Promise((resolve, reject) => {
        let active = 0;
        let retries = 0;
        const fire = () => {
          sent++;
          active++;
          http.get({ host: '127.0.0.1', port, path: requestPath, agent }, (res) => {
            res.resume();
            res.on('end', () => {
              active--;
              if (sent < upTo) fire();
              else if (active === 0) resolve();
            });
          }).on('error', (err) => {
            // A kept-alive socket the slowed server timed out meanwhile (a dump can take seconds): send again.
            sent--;
            active--;
            if (++retries > 100) reject(err);
            else fire();
          });
        };
        for (let i = 0; i < inFlight && sent < upTo; i++) fire();
      });
      if (reconnect) {
        agent.destroy();
        agent = newAgent();
      }
      await new Promise((r) => setTimeout(r, 200));
      dump();
    }
    agent.destroy();
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    const files = readdirSync(work).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    const perfMap = `/tmp/perf-${child.pid}.map`;
    const top = functions > 0 ? topFunctions(path.join(work, files[files.length - 1]), perfMap, checkpoints[checkpoints.length - 1] - (checkpoints[checkpoints.length - 2] ?? 0)) : [];
    if (keep && existsSync(perfMap)) copyFileSync(perfMap, path.join(work, `perf-${child.pid}.map`));
    if (functions > 0) rmSync(perfMap, { force: true });
    return Object.assign(files.map((f) => {
      const file = path.join(work, f);
      const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))[1]);
      const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const parts = {};
      for (const [name, symbol] of Object.entries(PARTS)) {
        const line = annotated.split('\n').find((l) => l.includes(symbol));
        parts[name] = line === undefined ? 0 : Number(line.trim().split(/\s+/)[0].replace(/,/g, ''));
      }
      return { total, ...parts };
    }), { top });
  } finally {
    child.kill('SIGKILL');
    if (keep) console.error(`${build.spec}: callgrind files kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Instructions of their own per request of the functions of one window (callgrind's exclusive counts),
 * JIT code named by the address ranges of Node's perf map; the `functions` largest.
 */
function topFunctions(file, perfMap, requests) {
  const jitName = jitNamer(perfMap, (name) => name.replace(/ \/\S*\/dist\//, ' dist/'));
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const self = new Map();
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m === null || /PROGRAM TOTALS|SpinEventLoopInternal|libc-start|below main|ld-linux|\?\?\?:main |NodeMainInstance::Run|node::Start\(|clone\.S|pthread_create/.test(m[2])) continue;
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(m[2]);
    const name = jit === null ? m[2].replace(/^\?\?\?:/, '').replace(/ \[.*\]$/, '').replace(/\(.*$/, '') : jitName(parseInt(jit[1], 16)) ?? `JIT code at 0x${jit[1]}`;
    self.set(name, (self.get(name) ?? 0) + Number(m[1].replace(/,/g, '')));
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, functions).map(([name, ir]) => ({ name, perRequest: ir / requests }));
}

const NO_AGENT = { spec: 'no agent', where: null, sampler: undefined, env: {} };
const builds = withNoAgent ? [NO_AGENT, ...agents] : [...agents];
const label = (b) => (b === NO_AGENT ? 'no agent' : b.spec.replace(b.spec.split(':')[0], b.where === null ? 'none' : path.basename(b.where)));
const runs = [];
if (oneAtATime) for (const b of builds) runs.push(await serve(b));
else runs.push(...(await Promise.all(builds.map(serve))));
const k = (n) => `${(n / 1000).toFixed(1)} k`;
console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, ${appName} app under callgrind (all threads), client pattern ${pattern}, sampler ${sampler} and --random-seed ${seed} unless given, exporter ${exporter}${reconnect ? ', new connections at every checkpoint' : ''}${nodeFlags.length ? `, ${nodeFlags.join(' ')}` : ''}`);
console.log('instructions per request in each window of requests served: total (of it TurboFan / Maglev / scavenges)');
console.log('');
console.log(`| requests | ${builds.map(label).join(' | ')} |${builds.slice(1).map((b) => ` ${label(b)} − ${label(builds[0])} |`).join('')}`);
console.log(`|---|${builds.map(() => '---:').join('|')}|${builds.slice(1).map(() => '---:|').join('')}`);
console.log(`| start-up (whole) | ${runs.map((r) => `${(r[0].total / 1e6).toFixed(1)} M`).join(' | ')} |${runs.slice(1).map((r) => ` +${((r[0].total - runs[0][0].total) / 1e6).toFixed(1)} M |`).join('')}`);
let from = 0;
checkpoints.forEach((upTo, i) => {
  const n = upTo - from;
  const cell = (w) => `${k(w.total / n)} (${k(w.turbofan / n)} / ${k(w.maglev / n)} / ${k(w.scavenge / n)})`;
  const diff = (w) => ` ${w.total >= runs[0][i + 1].total ? '+' : ''}${k((w.total - runs[0][i + 1].total) / n)} (TurboFan ${w.turbofan >= runs[0][i + 1].turbofan ? '+' : ''}${k((w.turbofan - runs[0][i + 1].turbofan) / n)}) |`;
  console.log(`| ${from}–${upTo} | ${runs.map((r) => cell(r[i + 1])).join(' | ')} |${runs.slice(1).map((r) => diff(r[i + 1])).join('')}`);
  from = upTo;
});
if (functions > 0) {
  console.log('');
  console.log(`instructions of their own per request, requests ${checkpoints[checkpoints.length - 2] ?? 0}–${checkpoints[checkpoints.length - 1]}, the ${functions} largest per build`);
  builds.forEach((b, i) => {
    console.log('');
    console.log(`${label(b)}:`);
    for (const f of runs[i].top) console.log(`${(f.perRequest / 1000).toFixed(2).padStart(8)} k  ${f.name}`);
  });
}
