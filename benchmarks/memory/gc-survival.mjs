// What survives V8's scavenges with and without the agent, and when the young generation grows (issue 20:
// on Node 24 the agent's sampled + OTLP rows of ./under-load.mjs show V8's new space at twice its size
// without the agent). V8 grows the semi-spaces when the bytes that survived scavenges (copied, then counted
// again when promoted) since the last growth pass their capacity, so what decides it is the survival of the
// first scavenges (start-up state) and the steady survival per MB allocated under load (what requests and
// batches keep alive). The plain http app of benchmarks/overhead/apps runs from its own temporary folder (as
// in ./under-load.mjs) under --trace-gc-nvp, idle --idle ms after it listens, then loaded at --rate req/s for
// --seconds; ./probe.cjs records the new space's size. One row per variant and round (no medians: the point
// is the sequence of each process's scavenges).
// Usage: node benchmarks/memory/gc-survival.mjs [--rate 3000] [--seconds 5] [--idle 600] [--rounds 1]
//        [--variants none,otlp,exporter-none,unsampled,disabled] [--agent /path/to/built/checkout]
//        [--node /path/to/node] [--node-flags "--max-opt=2"] (flags for the app's Node, for diagnosis only)
//        [--app benchmarks/overhead/apps/fetch.mjs] (another app; a downstream service is served at BACKEND_URL)
// GC_SURVIVAL_DUMP=1 writes each process's scavenges to stderr as `ms:copied+promoted` (KB).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVariants, startOtlpSink, variantEnv } from '../overhead/agent-variants.mjs';
import { cleanEnv } from '../overhead/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const rate = arg('rate', '3000');
const seconds = arg('seconds', '5');
const idleMs = Number(arg('idle', '600'));
const rounds = Number(arg('rounds', '1'));
const agent = path.resolve(arg('agent', root));
const node = arg('node', process.execPath);
const nodeFlags = arg('node-flags', '').split(/\s+/).filter((f) => f !== '');
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled,disabled').split(',');
const work = mkdtempSync(path.join(os.tmpdir(), 'gc-survival-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
mkdirSync(path.join(work, 'app', 'node_modules'), { recursive: true });
const appFile = path.resolve(arg('app', path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs')));
const appName = path.basename(appFile);
copyFileSync(appFile, path.join(work, 'app', appName));
// The downstream service of an app that calls one (benchmarks/overhead/apps/fetch.mjs reads BACKEND_URL), served
// here as cpu-per-request.mjs serves it.
const backend = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello'));
await new Promise((r) => backend.listen(0, '127.0.0.1', r));
const backendUrl = `http://127.0.0.1:${backend.address().port}/`;

// Node's default idle timeout (5 s), as this script has always run: its rows are the sequence of one
// process's scavenges, and the exporter's reconnects after the --idle wait are part of that sequence.
const sink = await startOtlpSink({ keepAliveTimeoutMs: 5000 });
const all = variantEnv({ sinkUrl: sink.url });
checkVariants(wanted, all);

/** `key=value` pairs of one --trace-gc-nvp line. */
const fields = (line) => ({ ...Object.fromEntries(line.split(/\s+/).filter((x) => x.includes('=')).map((x) => x.split('='))), ms: Number(/(\d+) ms: /.exec(line)?.[1]) });

async function sample(variant, round) {
  const extra = all[variant];
  const probeOut = path.join(work, `${variant}-${round}.jsonl`);
  const args = ['--trace-gc-nvp', ...nodeFlags, '--require', path.join(here, 'probe.cjs'), ...(extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]), path.join(work, 'app', appName)];
  const spawnedAt = Date.now();
  const child = spawn(node, args, { cwd: path.join(work, 'app'), env: cleanEnv({ ...(extra ?? {}), TRACING_LOG_LEVEL: 'error', TRACING_CACHE_DIR: path.join(work, 'code-cache'), PORT: '0', BACKEND_URL: backendUrl, MEMORY_PROBE_OUT: probeOut }), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const port = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${variant}: server exited ${code}`)));
    const check = setInterval(() => {
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearInterval(check);
        resolve(Number(m[1]));
      }
    }, 10);
  });
  await new Promise((r) => setTimeout(r, idleMs));
  const loadStart = Date.now();
  await new Promise((resolve, reject) => execFile(process.execPath, [path.join(root, 'benchmarks', 'cpu', 'load-child.mjs'), `http://127.0.0.1:${port}/`, rate, seconds, '8'], (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, 300));
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  const scavenges = out.split('\n').filter((l) => /\bgc=s\b/.test(l)).map(fields);
  if (process.env.GC_SURVIVAL_DUMP) console.error(variant, scavenges.map((s) => `${s.ms}:${Math.round(Number(s.new_space_survived ?? 0) / 1024)}+${Math.round(Number(s.promoted ?? 0) / 1024)}`).join(' '));
  const kept = (s) => Number(s.new_space_survived ?? s.semi_space_copied ?? 0) + Number(s.promoted ?? 0);
  const first = scavenges.slice(0, 4).map((s) => Math.round(kept(s) / 1024));
  // V8's own count (Heap::ShouldResizeNewSpace): what scavenges kept since the semi-spaces last grew, against the
  // capacity they grow past. Read from the lines: the capacity a scavenge reports is the one it resized to.
  let sinceGrowth = 0;
  let capacity = 0;
  const sinceGrowthAt = [];
  for (const s of scavenges) {
    const cap = Number(s.new_space_capacity ?? 0);
    sinceGrowth = cap > capacity && capacity > 0 ? 0 : sinceGrowth + kept(s);
    if (cap > capacity) capacity = cap;
    sinceGrowthAt.push(sinceGrowth);
  }
  // V8's clock starts with the process, as the probe's does (a few ms after the spawn).
  const beforeLoad = scavenges.filter((s) => s.ms < loadStart - spawnedAt).length;
  const sinceGrowthKb = (i) => (i > 0 ? Math.round(sinceGrowthAt[i - 1] / 1024) : 0);
  const steady = scavenges.slice(5);
  const steadyKept = steady.reduce((a, s) => a + kept(s), 0) / 1024;
  const steadyAllocated = steady.reduce((a, s) => a + Number(s.allocated ?? 0), 0) / 2 ** 20;
  const allocated = scavenges.reduce((a, s) => a + Number(s.allocated ?? 0), 0) / 2 ** 20;
  const probe = readFileSync(probeOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const growth = [];
  for (const p of probe) if (growth.length === 0 || growth[growth.length - 1].size !== p.newSpace) growth.push({ size: p.newSpace, t: p.t });
  // The probe's clock starts with the process (a few ms after the spawn).
  const loadAt = loadStart - spawnedAt;
  return {
    variant, round, scavenges: scavenges.length, allocated, first, steadyPerMb: steadyAllocated > 0 ? steadyKept / steadyAllocated : 0, steadyPerScavenge: steady.length > 0 ? steadyKept / steady.length : 0,
    growth: growth.map((g) => `${(g.size / 2 ** 20).toFixed(0)} MB ${g.t < loadAt ? 'at start' : `+${((g.t - loadAt) / 1000).toFixed(1)} s into load`}`).join(' → '),
    hwm,
    sinceGrowth: `${sinceGrowthKb(beforeLoad)} / ${sinceGrowthKb(scavenges.length)} of ${capacity / 1024}`,
  };
}

const rows = [];
for (let round = 0; round < rounds; round++) {
  for (const v of wanted.filter((w) => w in all)) rows.push(await sample(v, round));
}
await sink.close();
backend.close();
console.log(`Node ${node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}${nodeFlags.length > 0 ? ` ${nodeFlags.join(' ')}` : ''}; ${agent}; ${appName}; ${rate} req/s for ${seconds} s after ${idleMs} ms idle; load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| variant | round | scavenges | MB allocated | kept by scavenges 1-4 (KB: copied + promoted) | steady KB kept per MB allocated | per scavenge | new space (probe) | KB kept since the last growth: before the load / at its end, of the capacity | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.variant} | ${r.round + 1} | ${r.scavenges} | ${r.allocated.toFixed(0)} | ${r.first.join(', ')} | ${r.steadyPerMb.toFixed(1)} | ${r.steadyPerScavenge.toFixed(1)} | ${r.growth} | ${r.sinceGrowth} | ${r.hwm.toFixed(1)} |`);
