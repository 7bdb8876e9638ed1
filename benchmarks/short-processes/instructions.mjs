// Issue 21's job phase by phase in instructions (callgrind), where phases.mjs reads the clock: the same job,
// but each mark is a call of `process.memoryUsage.rss()`, and callgrind
// (`--dump-before=uv_resident_set_memory`) writes the instructions counted so far at each one, so a phase is one
// dump. Nothing else in the job calls that function (a run that finds another dump than the marks' fails). Phases:
//   start      Node's start and the agent's register.mjs, to a marker imported after it (Node's own part is the
//              floor row's: the marker alone; the two rows' difference is the agent's start)
//   first line the rest of Node's start up to the script's first line
//   http       the script's require('node:http') (with the agent: the tracer core's bundle and http's patch)
//   listen     createServer and listen, to the listen callback
//   request    the request, its response and the server's close
//   exit       the script's last act to its 'exit' event (with the agent: the export at beforeExit)
//   after exit the 'exit' listeners and Node's teardown
// Variants take turns process by process; each build's code cache is written first by two runs with the same
// flags. Medians per phase, and each agent row against the floor's.
// One marker, not two around register.mjs as phases.mjs has: with a second one the job allocates enough more to
// have a third scavenge (at its exit, ~3 M instructions) that neither the plain job nor the floor has.
// Why no --single-threaded by default: it changes V8's flags, so Node 20 rejects the code cache of its own
// built-in modules and compiles every one it loads from source (~110 M instructions more in the floor alone,
// ~15 % of the job), which counts each built-in function the agent calls first at many times its usual cost.
// `--random-seed=42` alone keeps that cache; V8's helper threads then move a count by ~±0.5 M, which is what the
// repeated runs are for. `--single-threaded` reproduces the counts of rounds fourteen and fifteen.
// Usage: node benchmarks/short-processes/instructions.mjs [--runs 3] [--before /path/to/build] [--node /path/to/node]
//                                                         [--single-threaded] [--require] [--collector down|up]
// --require: the agent and the marker by `--require` (register.cjs, a marker .cjs), the floor the marker alone:
// run.mjs's "by --require" row, whose job Node 20 does not run through its ES-module loader.
// The collector: a loopback port nothing listens on (refused), as phases.mjs's default; `--collector up`: a server
// in a process of its own answering 200 (run.mjs's collector-up rows; this script waits in spawnSync). Run
// `npm run build` first; set a private TMPDIR and TRACING_CACHE_DIR. Needs valgrind. ~4 s per process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../cpu/differences.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const runs = Math.max(1, Number(arg('runs', '3')) || 3);
// The processes run in a folder of their own: a relative path names a file from here.
const nodeArg = arg('node', process.execPath);
const node = nodeArg.includes('/') ? path.resolve(nodeArg) : nodeArg;
const before = arg('before', null);
const byRequire = process.argv.includes('--require');
const collectorUp = arg('collector', 'down') === 'up';
const nodeFlags = ['--random-seed=42', ...(process.argv.includes('--single-threaded') ? ['--single-threaded'] : [])];

const dir = mkdtempSync(path.join(os.tmpdir(), 'short-instructions-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const MARK = 'process.memoryUsage.rss();';
const marker = path.join(dir, byRequire ? 'mark.cjs' : 'mark.mjs');
writeFileSync(marker, `${MARK}\n`);
// benchmarks/short-processes/job.cjs, with a mark at each step.
writeFileSync(
  path.join(dir, 'job.cjs'),
  `'use strict';
${MARK}
const http = require('node:http');
${MARK}
const server = http.createServer((_req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => {
  ${MARK}
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/job' }, (res) => {
    res.resume();
    res.on('end', () => server.close(() => {
      ${MARK}
      process.on('exit', () => {
        ${MARK}
      });
    }));
  });
});
`,
);
// The collector of `--collector up`: answers every request with 200, as run.mjs's does; prints its port.
const COLLECTOR = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()); });
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
const PHASES = ['start', 'first line', 'http', 'listen', 'request', 'exit', 'after exit'];

let endpoint;
if (collectorUp) {
  const collector = spawn(process.execPath, ['-e', COLLECTOR], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => collector.kill());
  const port = await new Promise((resolve) => collector.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  collector.stdout.destroy();
  collector.unref();
  endpoint = `http://127.0.0.1:${port}/v1/traces`;
} else {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${probe.address().port}/v1/traces`;
  await new Promise((r) => probe.close(r));
}

const flag = byRequire ? '--require' : '--import';
const preloads = (register) => [...(register ? [flag, register] : []), flag, marker];
const registerFile = byRequire ? 'register.cjs' : 'register.mjs';
const variants = [
  { name: `${flag} floor (the marker only)`, args: preloads(null) },
  { name: 'agent', args: preloads(path.join(root, registerFile)) },
];
if (before !== null) variants.push({ name: 'before: agent', args: preloads(path.resolve(before, registerFile)) });

const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const env = { ...baseEnv, TRACING_SERVICE_NAME: 'short-process', TRACING_ENDPOINT: endpoint };
if (process.env.TRACING_CACHE_DIR) env.TRACING_CACHE_DIR = process.env.TRACING_CACHE_DIR;

/** Instructions per phase of one process under callgrind. */
function measure(args, k) {
  const out = path.join(dir, `cg-${k}`);
  const r = spawnSync('valgrind', ['--tool=callgrind', '--dump-before=uv_resident_set_memory', `--callgrind-out-file=${out}`, node, ...nodeFlags, ...args, path.join(dir, 'job.cjs')], { cwd: dir, env, encoding: 'utf8' });
  const total = /Collected : (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || total === null) throw new Error(`callgrind run failed (${r.status}): ${r.stderr}`);
  const files = readdirSync(dir).filter((f) => f.startsWith(`cg-${k}.`));
  const parts = files
    .map((f) => ({ n: Number(f.slice(f.lastIndexOf('.') + 1)), ir: Number(/^summary: (\d+)$/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1]) }))
    .sort((a, b) => a.n - b.n)
    .map((p) => p.ir);
  for (const f of files) rmSync(path.join(dir, f));
  rmSync(out, { force: true });
  if (parts.length !== PHASES.length - 1 || parts.some((p) => !Number.isFinite(p))) throw new Error(`expected ${PHASES.length - 1} dumps, got ${parts.length}`);
  return [...parts, Number(total[1]) - parts.reduce((a, b) => a + b, 0)];
}

for (const v of variants) {
  for (let i = 0; i < 2; i++) spawnSync(node, [...nodeFlags, ...v.args, path.join(dir, 'job.cjs')], { cwd: dir, env, stdio: 'ignore' });
}
const results = variants.map(() => []);
for (let i = 0; i < runs; i++) {
  for (let k = 0; k < variants.length; k++) {
    const at = (i + k) % variants.length;
    results[at].push(measure(variants[at].args, at));
  }
}

const M = (x, sign = false) => (sign && x > 0 ? '+' : '') + (x / 1e6).toFixed(2);
const perPhase = results.map((rs) => PHASES.map((_, p) => median(rs.map((r) => r[p]))));
const totals = results.map((rs) => median(rs.map((r) => r.reduce((a, b) => a + b, 0))));
console.log(`Node ${spawnSync(node, ['--version']).stdout.toString().trim()}, ${nodeFlags.join(' ')}; ${runs} processes per variant, interleaved; collector ${collectorUp ? 'up' : 'refused'}, agent by ${flag}; load average ${os.loadavg()[0].toFixed(1)}`);
console.log(`M instructions, medians per phase (the whole process: ${variants.map((v, k) => `${v.name} ${M(totals[k])}`).join(', ')}; each run: ${variants.map((v, k) => results[k].map((r) => M(r.reduce((a, b) => a + b, 0))).join(' / ')).join('; ')})`);
console.log('');
console.log(`| phase | ${variants.map((v) => v.name).join(' | ')} | ${variants.slice(1).map((v) => `${v.name} − floor`).join(' | ')} |`);
console.log(`|---|${variants.map(() => '---:|').join('')}${variants.slice(1).map(() => '---:|').join('')}`);
PHASES.forEach((name, p) => {
  console.log(`| ${name} | ${perPhase.map((t) => M(t[p])).join(' | ')} | ${perPhase.slice(1).map((t) => M(t[p] - perPhase[0][p], true)).join(' | ')} |`);
});
console.log(`| whole process | ${totals.map((t) => M(t)).join(' | ')} | ${totals.slice(1).map((t) => M(t - totals[0], true)).join(' | ')} |`);
