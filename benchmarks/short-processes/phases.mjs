// Where issue 21's job spends the agent's time, phase by phase: the same job as run.mjs (serve one request, make
// it, close, end), with marks at each step, run with `--import` of two tiny marker modules around the agent's
// register.mjs (the "--import floor" row: the markers alone, no agent). Each mark records the wall clock
// (performance.now()), the CPU time of all threads (process.cpuUsage()) and the minor page faults
// (process.resourceUsage()); a phase is the difference between two marks. Phases:
//   start      the agent's register.mjs (between the two markers; ~0 in the floor row)
//   first line the rest of Node's start up to the script's first line
//   http       the script's require('node:http') (with the agent: the tracer core's bundle and http's patch)
//   listen     createServer and listen, to the listen callback
//   request    the request, its response and the server's close
//   exit       the script's last act to its 'exit' event (with the agent: the export at beforeExit)
// Variants take turns process by process. Medians per phase, and the agent's rows against the floor's.
// Usage: node benchmarks/short-processes/phases.mjs [--runs 15] [--collector down|up] [--before /path/to/build]
//                                                   [--node /path/to/node] [--host 127.0.0.1|localhost]
// --collector down (the default): a loopback port nothing listens on; up: a local server answering 200 (on
// 127.0.0.1). --host: the endpoint's host; localhost is the default endpoint's (http://localhost:4318).
// Run `npm run build` first. Set a private TMPDIR and TRACING_CACHE_DIR (the code cache of each build is
// written by one process before the first round).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
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
const runs = Math.max(1, Number(arg('runs', '15')) || 15);
// The processes run in a folder of their own: a relative path names a file from here.
const nodeArg = arg('node', process.execPath);
const node = nodeArg.includes('/') ? path.resolve(nodeArg) : nodeArg;
const before = arg('before', null);
const collectorUp = arg('collector', 'down') === 'up';
const host = arg('host', '127.0.0.1');

const dir = mkdtempSync(path.join(os.tmpdir(), 'short-phases-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const mark = 'performance.now(), process.cpuUsage(), process.resourceUsage().minorPageFault';
writeFileSync(path.join(dir, 'mark0.mjs'), `globalThis.__marks = [['import', ${mark}]];\n`);
writeFileSync(path.join(dir, 'mark1.mjs'), `globalThis.__marks.push(['start', ${mark}]);\n`);
writeFileSync(
  path.join(dir, 'job.cjs'),
  `'use strict';
const marks = globalThis.__marks;
const mark = (name) => marks.push([name, ${mark}]);
mark('first line');
const http = require('node:http');
mark('http');
const server = http.createServer((_req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => {
  mark('listen');
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/job' }, (res) => {
    res.resume();
    res.on('end', () => server.close(() => {
      mark('request');
      process.on('exit', () => {
        mark('exit');
        require('node:fs').writeSync(3, JSON.stringify(marks.map(([n, w, c, f]) => [n, w, (c.user + c.system) / 1000, f])) + '\\n');
      });
    }));
  });
});
`,
);

let endpoint;
let collector = null;
if (collectorUp) {
  collector = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise((r) => collector.listen(0, '127.0.0.1', r));
  endpoint = `http://${host}:${collector.address().port}/v1/traces`;
} else {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  endpoint = `http://${host}:${probe.address().port}/v1/traces`;
  await new Promise((r) => probe.close(r));
}

const imports = (register) => ['--import', path.join(dir, 'mark0.mjs'), ...(register ? ['--import', register] : []), '--import', path.join(dir, 'mark1.mjs')];
const variants = [
  { name: '--import floor (markers only)', args: imports(null) },
  { name: 'agent', args: imports(path.join(root, 'register.mjs')) },
];
if (before !== null) variants.push({ name: 'before: agent', args: imports(path.resolve(before, 'register.mjs')) });

const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const env = { ...baseEnv, TRACING_SERVICE_NAME: 'short-process', TRACING_ENDPOINT: endpoint };
if (process.env.TRACING_CACHE_DIR) env.TRACING_CACHE_DIR = process.env.TRACING_CACHE_DIR;

// Asynchronously: the "up" collector answers from this process's loop.
function runOne(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [...args, path.join(dir, 'job.cjs')], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdio[3].setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0 || out === '') return reject(new Error(`job exited ${code}: ${err}`));
      resolve(JSON.parse(out));
    });
  });
}
for (const v of variants) await runOne(v.args); // each build writes its code cache once
const results = variants.map(() => []);
for (let i = 0; i < runs; i++) {
  for (let k = 0; k < variants.length; k++) {
    const at = (i + k) % variants.length;
    results[at].push(await runOne(variants[at].args));
  }
}
collector?.close();

const phases = results[0][0].map(([name]) => name);
const table = variants.map((v, k) =>
  phases.map((name, p) => {
    const d = (col) => median(results[k].map((r) => r[p][col] - (p === 0 ? 0 : r[p - 1][col])));
    return { wall: d(1), cpu: d(2), faults: d(3) };
  }),
);
const fmt = (x, sign = false) => (sign && x > 0 ? '+' : '') + x.toFixed(1);
console.log(`Node ${spawnSync(node, ['--version']).stdout.toString().trim()}; ${runs} runs per variant, interleaved; collector ${collectorUp ? 'up' : 'down (refused)'} at ${host}; load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log(`| phase | ${variants.map((v) => `${v.name}: wall / CPU ms / faults`).join(' | ')} | ${variants.slice(1).map((v) => `${v.name} − floor`).join(' | ')} |`);
console.log(`|---|${variants.map(() => '---|').join('')}${variants.slice(1).map(() => '---|').join('')}`);
phases.forEach((name, p) => {
  const label = p === 0 ? 'Node to the first --import' : name;
  const cells = table.map((t) => `${fmt(t[p].wall)} / ${fmt(t[p].cpu)} / ${t[p].faults}`);
  const diffs = table.slice(1).map((t) => `${fmt(t[p].wall - table[0][p].wall, true)} / ${fmt(t[p].cpu - table[0][p].cpu, true)} / ${fmt(t[p].faults - table[0][p].faults, true)}`);
  console.log(`| ${label} | ${cells.join(' | ')} | ${diffs.join(' | ')} |`);
});
