// Issue 21's benchmark: a batch of short processes started the way a test runner starts them, with
// the agent in NODE_OPTIONS, against no agent. Variants, interleaved round by round:
//   no agent | agent, TRACING_EXPORTER=none (start-up only) | agent + collector up | agent + collector down
//   | agent by --require + collector up | --import of an empty module, no agent (the floor of --import)
// "collector down" is a loopback port nothing listens on (connections refused), the default case of
// a laptop or CI runner without a collector. Reports the median over rounds of the batch's wall time
// (and its ratio to no agent), and per process the median CPU time (all threads, start-up included)
// and the median exit time (last act of the script to its 'exit' event).
// With --jobs 1 (the default) the variants take turns process by process (the order rotated each
// time), so a swing of the machine's load lands on every variant alike instead of on whichever batch
// ran then; a variant's batch wall time is then the sum of its processes' wall times (spawn to exit),
// which is what a batch of them one after another takes. With --jobs N > 1, whole batches take turns.
// The agent's code cache goes to a directory of this run, written by one process per build before the
// first round: the default directory is shared by every checkout and Node version on the machine and
// keeps 64 files, so on a machine where several builds run at once files are pruned and written
// again during a run, which costs the process that writes them tens of ms at random.
// Usage: node benchmarks/short-processes/run.mjs [--processes 20] [--rounds 5] [--jobs 1] [--node /path/to/node]
//                                               [--before /path/to/another/build] [--host 127.0.0.1|localhost]
// --host: the host in the endpoint the agent is given (the servers listen on 127.0.0.1 either way). localhost is
// the default endpoint's (http://localhost:4318), what a user without TRACING_ENDPOINT gets; 127.0.0.1 (the
// default here, as in every round before thirteen) skips the name.
// --before adds the collector up/down variants for another checkout of the agent (built, with its
// register.mjs), to compare two builds in one run.
// The "by --require" row is NODE_OPTIONS="--require .../register.cjs": on Node 20, --import makes Node run
// even a CommonJS main script through its ES-module loader, which --require does not (docs/loader.md). The
// --import rows stay the figure the target (issue 21) is judged on: --import is the documented form.
// The "--import floor" row is NODE_OPTIONS="--import <an empty .mjs>" with no agent: what Node itself charges
// any --import-based agent for this job (on Node 20 it runs the CommonJS main through its ES-module loader and
// starts the libuv pool). Like the closed loop's als-floor row, it is reported beside ours so the target can be
// judged against what no --import agent can avoid; it is not the target's figure.
// Run `npm run build` first (the agent is loaded from dist/).
// The job runs from a temporary folder (a copy of job.cjs, no node_modules), as a user's script does:
// run from inside this repository it would see the repository's devDependencies (graphql, whose
// ES-module build makes the agent start an import hook).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const processes = Math.max(1, Number(arg('processes', '20')) || 20);
const rounds = Math.max(1, Number(arg('rounds', '5')) || 5);
const jobs = Math.max(1, Number(arg('jobs', '1')) || 1);
const node = arg('node', process.execPath);
const host = arg('host', '127.0.0.1') === 'localhost' ? 'localhost' : '127.0.0.1';
const register = path.join(root, 'register.mjs');
if (!existsSync(path.join(root, 'dist', 'src', 'agent', 'start.js'))) {
  console.error('build first: npm run build');
  process.exit(1);
}

const jobDir = mkdtempSync(path.join(os.tmpdir(), 'short-processes-'));
copyFileSync(path.join(here, 'job.cjs'), path.join(jobDir, 'job.cjs'));
const emptyModule = path.join(jobDir, 'empty.mjs');
copyFileSync(path.join(here, '..', 'startup', 'nothing.mjs'), emptyModule);
const cacheDir = path.join(jobDir, 'code-cache');
mkdirSync(cacheDir, { mode: 0o700 });
process.on('exit', () => rmSync(jobDir, { recursive: true, force: true }));

// The collector: answers every OTLP request with 200 and counts what it got.
let received = 0;
const collector = http.createServer((req, res) => {
  req.on('data', (c) => (received += c.length));
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise((r) => collector.listen(0, '127.0.0.1', r));
const upUrl = `http://${host}:${collector.address().port}/v1/traces`;
// A port that refuses: bound by a server that does not accept... Node cannot hold one unlistened,
// so take a free port and release it; on loopback nothing else is likely to take it for minutes.
const probe = net.createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const downUrl = `http://${host}:${probe.address().port}/v1/traces`;
await new Promise((r) => probe.close(r));

const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const agentOptions = `--import ${register}`;
const requireOptions = `--require ${path.join(root, 'register.cjs')}`;
const variants = [
  { name: 'no agent', env: {} },
  { name: 'agent, exporter none (start-up only)', env: { NODE_OPTIONS: agentOptions, TRACING_EXPORTER: 'none' } },
  { name: 'agent + collector up', env: { NODE_OPTIONS: agentOptions, TRACING_ENDPOINT: upUrl } },
  { name: 'agent + collector down (refused)', env: { NODE_OPTIONS: agentOptions, TRACING_ENDPOINT: downUrl } },
  { name: 'agent by --require + collector up', env: { NODE_OPTIONS: requireOptions, TRACING_ENDPOINT: upUrl } },
  { name: '--import floor: an empty module, no agent', env: { NODE_OPTIONS: `--import ${emptyModule}` }, floor: true },
];
const before = arg('before', null);
if (before !== null) {
  const options = `--import ${path.resolve(before, 'register.mjs')}`;
  variants.push(
    { name: 'before: agent + collector up', env: { NODE_OPTIONS: options, TRACING_ENDPOINT: upUrl } },
    { name: 'before: agent + collector down (refused)', env: { NODE_OPTIONS: options, TRACING_ENDPOINT: downUrl } },
  );
}

function runOne(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [path.join(jobDir, 'job.cjs')], {
      cwd: jobDir,
      env: { ...baseEnv, TRACING_SERVICE_NAME: 'short-process', TRACING_CACHE_DIR: cacheDir, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    const started = performance.now();
    let report = '';
    let stderr = '';
    child.stdio[3].setEncoding('utf8').on('data', (d) => (report += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`job exited ${code}: ${stderr}`));
      try {
        resolve({ ...JSON.parse(report), wallMs: performance.now() - started, warned: stderr.includes('warn') });
      } catch {
        reject(new Error(`no report from the job: ${stderr}`));
      }
    });
  });
}

async function runBatch(env) {
  const started = performance.now();
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < processes) {
      next++;
      results.push(await runOne(env));
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return { wallMs: performance.now() - started, results };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// One process per build writes its code cache before anything is measured, exporting to the collector
// as a user's first process would: the cache then holds the export's functions too (V8 writes the ones
// compiled by then), for every variant of that build alike.
for (const options of new Set(variants.filter((v) => v.floor !== true).map((v) => v.env.NODE_OPTIONS).filter((o) => o !== undefined))) await runOne({ NODE_OPTIONS: options, TRACING_ENDPOINT: upUrl });

const samples = new Map(variants.map((v) => [v.name, { wall: [], cpu: [], startCpu: [], exit: [], warned: 0 }]));
const record = (v, r) => {
  const s = samples.get(v.name);
  s.cpu.push(r.cpuMs);
  s.startCpu.push(r.startCpuMs);
  s.exit.push(r.exitMs);
  if (r.warned) s.warned++;
};
const load = [];
for (let round = 0; round < rounds; round++) {
  // Rotate the order each time, so no variant always runs first (or right after another).
  if (jobs === 1) {
    const wall = new Map(variants.map((v) => [v.name, 0]));
    for (let i = 0; i < processes; i++) {
      const turn = round * processes + i;
      for (const v of variants.map((_, k) => variants[(k + turn) % variants.length])) {
        const r = await runOne(v.env);
        wall.set(v.name, wall.get(v.name) + r.wallMs);
        record(v, r);
      }
    }
    for (const [name, ms] of wall) samples.get(name).wall.push(ms);
  } else {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const v of order) {
      const batch = await runBatch(v.env);
      samples.get(v.name).wall.push(batch.wallMs);
      for (const r of batch.results) record(v, r);
    }
  }
  load.push(os.loadavg()[0]);
  process.stderr.write(`round ${round + 1}/${rounds} done (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
collector.close();

const base = median(samples.get('no agent').wall);
console.log(`Node ${node === process.execPath ? process.version : node}; ${processes} processes per batch, ${jobs} at a time, ${rounds} rounds, ${jobs === 1 ? 'variants interleaved process by process' : 'batches interleaved'}; endpoint host ${host}; load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`);
console.log('');
console.log('| variant | batch wall ms (median) | × no agent | CPU ms per process (median) | of it before the script\'s first line | after it | exit ms per process (median) | processes that warned |');
console.log('|---|---|---|---|---|---|---|---|');
for (const v of variants) {
  const s = samples.get(v.name);
  const wall = median(s.wall);
  console.log(`| ${v.name} | ${wall.toFixed(0)} | ${(wall / base).toFixed(2)} | ${median(s.cpu).toFixed(1)} | ${median(s.startCpu).toFixed(1)} | ${median(s.cpu.map((c, i) => c - s.startCpu[i])).toFixed(1)} | ${median(s.exit).toFixed(1)} | ${s.warned} of ${s.cpu.length} |`);
}
console.log('');
const floor = variants.find((v) => v.floor === true);
const floorWall = median(samples.get(floor.name).wall);
const floorCpu = median(samples.get(floor.name).cpu);
const signed = (x) => (x >= 0 ? '+' : '') + x.toFixed(1);
const overFloor = variants.filter((v) => v.name !== 'no agent' && v.floor !== true && !v.env.NODE_OPTIONS.startsWith('--require'));
console.log(`Beside the floor (--import of an empty module: ${(floorWall / base).toFixed(2)} × no agent, ${signed(floorCpu - median(samples.get('no agent').cpu))} ms of CPU per process): ${overFloor.map((v) => `${v.name} ${(median(samples.get(v.name).wall) / floorWall).toFixed(2)} × the floor, ${signed(median(samples.get(v.name).cpu) - floorCpu)} ms of CPU`).join('; ')}`);
console.log('');
console.log(`collector received ${received} bytes`);
console.log('');
