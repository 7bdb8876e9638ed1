// Instructions per request of the real plain-http server (benchmarks/overhead/apps/http.mjs), all
// threads, counted by valgrind's callgrind in windows of requests served: one server process per build
// (and one without the agent), driven by a client in this process, with callgrind's counters dumped and
// zeroed at each checkpoint (`callgrind_control -d`). Where the CPU of a request goes as the server warms
// up, and how much of it is V8's optimising compilers (TurboFan, Maglev, on its worker threads) and its
// scavenger, which a figure after a long warm-up (request-instructions.mjs) leaves out and a short
// benchmark window takes in. A count the machine's load does not change.
// Usage: node benchmarks/micro/server-instructions.mjs --agents /build/a[,/build/b] [--app http|express|fastify|fetch] [--checkpoints 2000,6000,11000,16000,21000,26000]
//        [--pattern overlap|seq] [--sampler always_off] [--node /path/to/node] [--seed 42] [--node-flags "--perf-basic-prof"] [--keep]
// --pattern overlap: 8 keep-alive connections with 3 requests in flight (requests overlap, as under
// cpu-per-request.mjs's open-loop load); seq: one connection, one request at a time. Slow: valgrind runs
// Node ~50× slower (some 6 minutes for 26,000 requests). The servers run one after another (the
// machine is shared: one callgrind at a time; the counts do not depend on the load anyway).
// Each --agents entry is `<build>[:<sampler>[:<VAR=value>+<VAR=value>...]]`: a built checkout (its
// register.mjs), `none` (one more no-agent server), or a preload `.mjs` (e.g. benchmarks/micro/als-floor/
// register.mjs, the floor of any AsyncLocalStorage tracer), with its own sampler (else --sampler) and
// environment (e.g. `TRACING_DISABLED_INSTRUMENTATIONS=fastify`); `SEED=n` sets that server's
// --random-seed (else --seed). A no-agent server always runs first and is what the rest are compared with.
// --keep keeps the callgrind files (their folders are printed); with --node-flags --perf-basic-prof,
// callgrind-functions.mjs names the JIT code in them per JavaScript function.
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
const node = arg('node', process.execPath);
const seed = arg('seed', '42');
const nodeFlags = (arg('node-flags', '') ?? '').split(' ').filter(Boolean);
const keep = process.argv.includes('--keep');
// --app picks another overhead app (express, fastify, fetch: its downstream service is served by this process).
const appName = arg('app', 'http');
const APP_PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/' };
const requestPath = APP_PATHS[appName];
if (requestPath === undefined) {
  console.error(`--app: one of ${Object.keys(APP_PATHS).join(', ')}`);
  process.exit(2);
}
const app = path.join(root, 'benchmarks', 'overhead', 'apps', `${appName}.mjs`);
let backendUrl = '';
if (appName === 'fetch') {
  const backend = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello'));
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  backend.unref();
  backendUrl = `http://127.0.0.1:${backend.address().port}/`;
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
  // A fixed --random-seed: the same hash seed and address-space layout choices every run.
  const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, node, `--random-seed=${ownSeed ?? seed}`, ...nodeFlags,
    ...preload, app], {
    cwd: work,
    env: { ...env, PORT: '0', BACKEND_URL: backendUrl, TRACING_LOG_LEVEL: 'error', TRACING_SAMPLER: build.sampler ?? sampler, TRACING_EXPORTER: 'none', ...extraEnv },
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
    const agent = new http.Agent({ keepAlive: true, maxSockets: pattern === 'seq' ? 1 : 8 });
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
      await new Promise((r) => setTimeout(r, 200));
      dump();
    }
    agent.destroy();
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    const files = readdirSync(work).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    return files.map((f) => {
      const file = path.join(work, f);
      const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))[1]);
      const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const parts = {};
      for (const [name, symbol] of Object.entries(PARTS)) {
        const line = annotated.split('\n').find((l) => l.includes(symbol));
        parts[name] = line === undefined ? 0 : Number(line.trim().split(/\s+/)[0].replace(/,/g, ''));
      }
      return { total, ...parts };
    });
  } finally {
    child.kill('SIGKILL');
    if (keep) {
      // The JIT's names beside the counts: /tmp/perf-<pid>.map is the machine's, and may be pruned.
      try {
        copyFileSync(`/tmp/perf-${child.pid}.map`, path.join(work, `perf-${child.pid}.map`));
      } catch { /* run without --perf-basic-prof */ }
      console.error(`${build.spec}: callgrind files kept in ${work}`);
    }
    else rmSync(work, { recursive: true, force: true });
  }
}

const builds = [{ spec: 'no agent', where: null, sampler: undefined, env: {} }, ...agents];
const label = (b) => (b.spec === 'no agent' ? 'no agent' : b.spec.replace(b.spec.split(':')[0], b.where === null ? 'none' : path.basename(b.where)));
const runs = [];
for (const build of builds) runs.push(await serve(build));
const k = (n) => `${(n / 1000).toFixed(1)} k`;
console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, ${appName} app under callgrind (all threads), client pattern ${pattern}, sampler ${sampler} unless given, --random-seed ${seed} unless given${nodeFlags.length ? `, ${nodeFlags.join(' ')}` : ''}`);
console.log('instructions per request in each window of requests served: total (of it TurboFan / Maglev / scavenges)');
console.log('');
console.log(`| requests | ${builds.map(label).join(' | ')} |${agents.map((a) => ` ${label(a)} − no agent |`).join('')}`);
console.log(`|---|${builds.map(() => '---:').join('|')}|${agents.map(() => '---:|').join('')}`);
console.log(`| start-up (whole) | ${runs.map((r) => `${(r[0].total / 1e6).toFixed(1)} M`).join(' | ')} |${runs.slice(1).map((r) => ` +${((r[0].total - runs[0][0].total) / 1e6).toFixed(1)} M |`).join('')}`);
let from = 0;
checkpoints.forEach((upTo, i) => {
  const n = upTo - from;
  const cell = (w) => `${k(w.total / n)} (${k(w.turbofan / n)} / ${k(w.maglev / n)} / ${k(w.scavenge / n)})`;
  const diff = (w) => ` ${w.total >= runs[0][i + 1].total ? '+' : ''}${k((w.total - runs[0][i + 1].total) / n)} (TurboFan ${w.turbofan >= runs[0][i + 1].turbofan ? '+' : ''}${k((w.turbofan - runs[0][i + 1].turbofan) / n)}) |`;
  console.log(`| ${from}–${upTo} | ${runs.map((r) => cell(r[i + 1])).join(' | ')} |${runs.slice(1).map((r) => diff(r[i + 1])).join('')}`);
  from = upTo;
});
