// What a full GC in an idle server costs the requests after it (issue 20: why cpu-per-request.mjs
// runs its servers with --no-memory-reducer). For each case, one at a time: a fresh server of the
// plain http app, warmed with --warmup-requests at --rate, then idle for --idle s (the load's
// connections closed, as between the benchmark's windows), then — for `gc` cases — one full GC
// (gc-on-signal.cjs, what V8's memory reducer does in an idle process), then --seconds of load at
// --rate: its server CPU per request (V8's own memory reducer is off, so a `nogc` case idles without
// a full GC), and the optimised code V8 threw away and compiled again after the idle point (from
// --trace-opt/--trace-deopt).
// Cases: <build>:<variant>:<gc|nogc>, build `none` (no agent) or a built checkout; variant otlp |
// unsampled | none.
// Usage: node benchmarks/cpu/idle-gc.mjs --cases /build:otlp:gc,/build:otlp:nogc,none:none:gc,none:none:nogc
//        [--node /path/to/node] [--lines 24] [--rate 3000] [--idle 7] [--seconds 4] [--warmup-requests 25000]
//        [--collector-keep-alive 5000]
// IDLE_GC_DUMP=<file> writes the last case's --trace-opt/--trace-deopt output after the idle point there.
// --collector-keep-alive: how long (ms) the OTLP sink keeps an idle connection open (Node's default
// 5,000); past it the exporter connects again after the idle gap.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appFolder } from '../overhead/app-folder.mjs';
import { nodeBinary } from '../overhead/node-line.mjs';
import { threadCpuNs } from '../overhead/process-stats.mjs';
import { cleanEnv } from '../overhead/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const rate = Number(arg('rate', '3000'));
const idle = Number(arg('idle', '7'));
const seconds = Number(arg('seconds', '4'));
const warmupRequests = Number(arg('warmup-requests', '25000'));
const line = arg('lines', null);
const node = line === null ? arg('node', process.execPath) : nodeBinary(line);
const cases = arg('cases', `${root}:otlp:gc,${root}:otlp:nogc,none:none:gc,none:none:nogc`).split(',').map((c) => {
  const [build, variant, gc] = c.split(':');
  return { build, variant, gc: gc === 'gc' };
});
// From a folder of its own, as a user's app (../overhead/app-folder.mjs).
const { dir: cwd, file: app } = appFolder('http');
const collectorKeepAlive = Number(arg('collector-keep-alive', '5000'));

const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
sink.keepAliveTimeout = collectorKeepAlive;
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function load(port, secs) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(here, 'load-child.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(secs), '8'], (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout));
    });
  });
}

console.log(`${String(execFileSync(node, ['--version'])).trim()}; ${rate} req/s; warm-up ${warmupRequests} requests; idle ${idle} s; collector keep-alive ${collectorKeepAlive} ms; then ${seconds} s measured; load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| build | variant | full GC while idle | CPU µs/req after | optimised code thrown away | compilations after | functions deoptimised |');
console.log('|---|---|---|---|---|---|---|');
for (const c of cases) {
  const env = cleanEnv({ PORT: '0', TRACING_SERVICE_NAME: 'idle-gc', TRACING_LOG_LEVEL: 'error', TRACING_ENDPOINT: sinkUrl });
  if (c.variant === 'unsampled') env.TRACING_SAMPLER = 'always_off';
  // The memory reducer off: the only full GC in the idle gap is the one sent here (the reducer would
  // otherwise run one in the idle gap of its own accord, `nogc` cases included).
  const args = ['--no-memory-reducer', '--expose-gc', '--trace-opt', '--trace-deopt', '--require', path.join(here, 'gc-on-signal.cjs')];
  if (c.build !== 'none') args.push('--import', path.join(path.resolve(c.build), 'register.mjs'));
  const child = spawn(node, [...args, app], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('latin1').on('data', (d) => (text += d));
  child.stderr.setEncoding('latin1').on('data', (d) => (text += d));
  try {
    let port = 0;
    while (port === 0) {
      const m = /listening on (\d+)/.exec(text);
      if (m) port = Number(m[1]);
      else await sleep(50);
    }
    let answered = 0;
    while (answered < warmupRequests) answered += (await load(port, 5)).answered;
    await sleep(idle * 1000);
    const mark = text.length;
    if (c.gc) child.kill('SIGUSR2');
    await sleep(1000);
    const before = threadCpuNs(child.pid);
    const summary = await load(port, seconds);
    const cpu = (threadCpuNs(child.pid) - before) / 1000 / summary.answered;
    const after = text.slice(mark);
    if (process.env.IDLE_GC_DUMP) writeFileSync(process.env.IDLE_GC_DUMP, after);
    const thrown = [...after.matchAll(/deoptimizing 0x[0-9a-f]+ <JSFunction ([^ ]+)|SharedFunctionInfo ([^>]+)>\) \(opt id \d+\) for deoptimization/g)].map((m) => m[1] ?? m[2]);
    const compiled = (after.match(/completed (compiling|optimizing)/g) ?? []).length;
    const names = [...new Set(thrown)].sort();
    console.log(`| ${c.build === 'none' ? 'no agent' : path.basename(c.build)} | ${c.variant} | ${c.gc ? 'yes' : 'no'} | ${cpu.toFixed(1)} | ${thrown.length} | ${compiled} | ${names.length > 12 ? `${names.slice(0, 12).join(', ')} … (${names.length})` : names.join(', ')} |`);
  } finally {
    child.kill('SIGKILL');
  }
}
sink.close();
