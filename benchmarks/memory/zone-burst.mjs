// The optimizing compilers' memory at the start of a load (issue 20, Node 24's peak RSS under load). When the
// load starts, every function on the request path gets hot within ~0.1 s and V8 queues a Maglev job for each.
// A job's zone (40 KB queued, 70 – 470 KB compiled) lives until the job is destroyed, which V8 leaves to the
// compiler threads after the main thread installed the code (--maglev-destroy-on-background); on a busy
// 2-core machine they get to it late, so the burst's zones are alive at once, and glibc's malloc arenas keep
// what they took (./under-load.mjs's "malloc [heap]" and "threads' malloc arenas" columns). This runs the plain http app of benchmarks/overhead/apps from its own temporary
// folder (as ./under-load.mjs does) under --trace-zone-stats --trace-opt with the concurrent compilers (the
// default), idle --idle ms after it listens, then loaded open-loop at --rate requests/s for --seconds, and
// prints per variant, build and run: the Maglev and TurboFan compilations, the largest zone memory alive at
// once over the run, how many Maglev jobs' zones were alive at that moment and when it came, and peak RSS.
// Round fifteen (Node 24.21, load ~4.5): none 7.8 – 7.9 MB with 58 – 60 jobs alive, otlp 13.7 – 15.0 with
// 104 – 115, down 13.6 – 15.6 with 105 – 121, exporter none 3.3 – 12.6 (three runs each): the peak follows
// peak RSS; with --no-maglev-destroy-on-background (V8 then frees a finished job's zone on the main thread
// instead of queueing its destruction for the busy compiler threads) no Maglev job is alive at the peak.
// These move with the machine's load and the threads' scheduling: compare builds interleaved, several runs.
// Usage: node benchmarks/memory/zone-burst.mjs [--variants none,otlp,exporter-none,unsampled,down]
//        [--agents /built/checkout,/another] [--runs 3] [--rate 3000] [--seconds 4] [--idle 600]
//        [--node /path/to/node] [--node-flags "--no-maglev"] (flags for the app's Node, diagnosis only)
//        [--names /dir] (writes the Maglev-compiled functions' names, <variant>-<build>-<run>.txt, one a line)
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectorEndpoints, variantEnvs } from './endpoints.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const agents = arg('agents', root).split(',').map((a) => path.resolve(a));
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled,down').split(',');
const runs = Number(arg('runs', '3'));
const rate = arg('rate', '3000');
const seconds = arg('seconds', '4');
const idleMs = Number(arg('idle', '600'));
const node = arg('node', process.execPath);
const nodeFlags = arg('node-flags', '').split(/\s+/).filter((f) => f !== '');
const namesDir = arg('names', null);
const work = mkdtempSync(path.join(os.tmpdir(), 'zone-burst-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
mkdirSync(path.join(work, 'app', 'node_modules'), { recursive: true });
copyFileSync(path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs'), path.join(work, 'app', 'http.mjs'));

const endpoints = await collectorEndpoints();
const { sink } = endpoints;
const all = variantEnvs(endpoints);
const variants = wanted.filter((w) => w in all);
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)));

async function sample(variant, agent, index, run) {
  const extra = all[variant];
  const args = ['--trace-zone-stats', '--zone-stats-tolerance=262144', '--trace-opt', ...nodeFlags, ...(extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]), path.join(work, 'app', 'http.mjs')];
  const env = { ...baseEnv, ...(extra ?? {}), TRACING_LOG_LEVEL: 'error', TRACING_CACHE_DIR: path.join(work, `code-cache-${index}`), PORT: '0' };
  const child = spawn(node, args, { cwd: path.join(work, 'app'), env, stdio: ['ignore', 'pipe', 'inherit'] });
  // The trace is several MB: kept as chunks, joined once.
  const chunks = [];
  let head = '';
  const port = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${variant}: server exited ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      chunks.push(d);
      if (head !== null) {
        head += d;
        const m = /listening on (\d+)/.exec(head);
        if (m) {
          head = null;
          resolve(Number(m[1]));
        }
      }
    });
  });
  await new Promise((r) => setTimeout(r, idleMs));
  await new Promise((resolve, reject) => execFile(process.execPath, [path.join(root, 'benchmarks', 'cpu', 'load-child.mjs'), `http://127.0.0.1:${port}/`, rate, seconds, '8'], (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, 300));
  const peakRss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  let maglev = 0;
  let turbofan = 0;
  const maglevNames = [];
  let peak = { allocated: 0, zones: [], time: 0 };
  let torn = 0;
  for (const line of chunks.join('').split('\n')) {
    if (line.startsWith('[compiling method')) {
      if (line.includes('(target MAGLEV)')) {
        maglev++;
        maglevNames.push((/<JSFunction (.*?) \(sfi/.exec(line)?.[1] ?? '?').trim());
      } else if (line.includes('(target TURBOFAN')) turbofan++;
    } else if (line.startsWith('{"type": "v8-zone-trace"')) {
      // The compiler threads' --trace-opt lines can land inside a zone line: such a line is left out.
      let stats = null;
      try {
        ({ stats } = JSON.parse(line));
      } catch {
        torn++;
        continue;
      }
      if (stats.allocated > peak.allocated) peak = stats;
    }
  }
  if (namesDir !== null) writeFileSync(path.join(namesDir, `${variant}-${agents.indexOf(agent)}-${run}.txt`), `${maglevNames.join('\n')}\n`);
  const jobsAtPeak = peak.zones.filter((z) => z.name === 'maglev-compilation-job-zone').length;
  return { maglev, turbofan, peakMb: peak.allocated / 2 ** 20, jobsAtPeak, peakAtMs: peak.time, peakRss, torn };
}

const builds = agents.length > 1 ? agents : [agents[0]];
console.log(`Node ${node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}${nodeFlags.length > 0 ? ` ${nodeFlags.join(' ')}` : ''}; ${rate} req/s for ${seconds} s after ${idleMs} ms idle; ${runs} runs; load average at start ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| variant | build | run | compilations Maglev / TurboFan | largest zone memory alive at once (MB) | Maglev jobs alive then | at (ms after start) | peak RSS (MB) | zone lines torn |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (let run = 0; run < runs; run++) {
  for (const variant of variants) {
    const who = all[variant] === null ? [builds[0]] : builds;
    for (const agent of who) {
      const r = await sample(variant, agent, builds.indexOf(agent), run);
      const name = all[variant] === null ? '-' : agent;
      console.log(`| ${variant} | ${name} | ${run + 1} | ${r.maglev} / ${r.turbofan} | ${r.peakMb.toFixed(1)} | ${r.jobsAtPeak} | ${r.peakAtMs.toFixed(0)} | ${r.peakRss.toFixed(1)} | ${r.torn} |`);
    }
  }
}
console.log(`load average at end ${os.loadavg()[0].toFixed(1)}`);
sink.close();
