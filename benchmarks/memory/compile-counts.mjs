// What the optimizing compilers do with and without the agent, in counts that repeat (issue 20, Node 24's
// peak RSS under load: ./under-load.mjs's rows move by up to 8 MB between samples with the compilers' memory,
// so a change to a hot path is judged here first). The plain http app of benchmarks/overhead/apps runs from
// its own temporary folder (as in ./under-load.mjs) under V8's tracing flags, idle 600 ms after it listens,
// then serves --requests requests in a closed loop (--inflight at a time over 8 keep-alive connections, from
// this process: the counts follow the requests, not the machine's load), and exits on SIGUSR2. Prints one
// line per variant and run: compilations by tier and their time, deoptimisations by reason, the compilers'
// zone totals (--turbo-stats / --maglev-stats: bytes allocated over the run), the scavenges, the bytes they
// kept and when the new space grew (--trace-gc-nvp), peak RSS; --by-function adds the deoptimised functions.
// The default flags put every compile on the main thread (--single-threaded): the counts then hold within a
// few from run to run (with the concurrent compilers they move by ~10), and peak RSS leaves out the memory
// the concurrent jobs hold, which is what moves between ./under-load.mjs's samples (diagnosis only).
// Usage: node benchmarks/memory/compile-counts.mjs [--variants none,otlp,down,exporter-none,unsampled]
//        [--agents /built/checkout,/another] [--runs 2] [--requests 20000] [--inflight 3]
//        [--node /path/to/node] [--flags "--single-threaded"] [--by-function]
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
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
const variants = arg('variants', 'none,otlp,down,exporter-none,unsampled').split(',');
const runs = Number(arg('runs', '2'));
const requests = Number(arg('requests', '20000'));
const inflight = Number(arg('inflight', '3'));
const node = arg('node', process.execPath);
const flags = arg('flags', '--single-threaded').split(/\s+/).filter((f) => f !== '');
const byFunction = process.argv.includes('--by-function');
const work = mkdtempSync(path.join(os.tmpdir(), 'compile-counts-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
mkdirSync(path.join(work, 'app', 'node_modules'), { recursive: true });
copyFileSync(path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs'), path.join(work, 'app', 'http.mjs'));
// Preloaded: SIGUSR2 ends the app normally, so V8 prints its compilers' statistics.
copyFileSync(path.join(here, 'exit-on-signal.cjs'), path.join(work, 'exit-on-signal.cjs'));

const endpoints = await collectorEndpoints();
const { sink } = endpoints;
const envs = variantEnvs(endpoints);
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)));
// Node 20's V8 has no Maglev statistics flag (and refuses to start with it).
const hasMaglevStats = execFileSync(node, ['--v8-options'], { encoding: 'utf8' }).includes('--maglev-stats');
const traceFlags = ['--trace-opt', '--trace-deopt', '--turbo-stats', ...(hasMaglevStats ? ['--maglev-stats'] : []), '--trace-gc-nvp'];

async function run(agent, variant, round) {
  const extra = envs[variant];
  const args = [...flags, ...traceFlags, '--require', path.join(work, 'exit-on-signal.cjs'), ...(extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]), path.join(work, 'app', 'http.mjs')];
  const env = { ...baseEnv, ...(extra ?? {}), TRACING_LOG_LEVEL: 'error', TRACING_CACHE_DIR: path.join(work, `cache-${agents.indexOf(agent)}-${round}`), PORT: '0' };
  // Into a file, not a pipe: V8 writes its statistics at teardown with C stdio, and a full non-blocking
  // pipe would lose the end of them.
  const outFile = path.join(work, `out-${round}.txt`);
  const fd = openSync(outFile, 'w');
  const child = spawn(node, args, { cwd: path.join(work, 'app'), env, stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  let port = null;
  let exitCode = null;
  child.on('exit', (code) => (exitCode = code));
  while (port === null) {
    if (exitCode !== null) throw new Error(`${variant}: the app exited (${exitCode}) before listening: ${readFileSync(outFile, 'utf8').slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
    port = Number(/listening on (\d+)/.exec(readFileSync(outFile, 'utf8'))?.[1] ?? NaN) || null;
  }
  await new Promise((r) => setTimeout(r, 600));
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  const one = () => new Promise((r) => http.get({ host: '127.0.0.1', port, path: '/', agent: keepAlive }, (res) => {
    res.resume();
    res.on('end', r);
  }).on('error', r));
  const lane = async () => {
    while (sent < requests) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  keepAlive.destroy();
  const peakMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
  const exited = new Promise((r) => child.on('close', r));
  child.kill('SIGUSR2');
  await exited;
  const out = readFileSync(outFile, 'utf8');
  return { ...tally(out), peakMb };
}

function tally(out) {
  const t = { maglev: 0, turbofan: 0, maglevMs: 0, turbofanMs: 0, deopts: 0, wrongMap: 0, zones: [], scavenges: 0, keptKb: 0, growths: [], deopted: new Map() };
  let capacity = null;
  for (const line of out.split('\n')) {
    let m;
    if ((m = /^\[completed compiling .*\(target (MAGLEV|TURBOFAN(?:_JS)?)\).* - took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line))) {
      const ms = Number(m[2]) + Number(m[3]) + Number(m[4]);
      if (m[1] === 'MAGLEV') (t.maglev++, (t.maglevMs += ms));
      else (t.turbofan++, (t.turbofanMs += ms));
    } else if ((m = /^\[bailout \(kind: [\w-]+(?:, reason: ([^)]*))?\).*?<JSFunction (\S*?)(?: \(sfi|>)/.exec(line))) {
      t.deopts++;
      if (m[1] === 'wrong map') t.wrongMap++;
      const key = `${m[2] || '(anonymous)'} (${m[1] ?? 'no reason'})`;
      t.deopted.set(key, (t.deopted.get(key) ?? 0) + 1);
    } else if ((m = /^\s+totals\s+[\d.]+ \(.*?\)\s+(\d+)/.exec(line))) t.zones.push(Number(m[1]) / 2 ** 20);
    else if (line.includes(' gc=s ')) {
      const field = (name) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0);
      t.scavenges++;
      t.keptKb += (field('promoted') + field('new_space_survived')) / 1024;
      const cap = field('new_space_capacity');
      if (capacity !== null && cap !== capacity) t.growths.push(`${/(\d+) ms:/.exec(line)?.[1]} ms → ${cap / 2 ** 20} MB`);
      capacity = cap;
    }
  }
  return t;
}

console.log(`${node === process.execPath ? process.version : node}; flags ${flags.join(' ') || '(none)'}; ${requests} requests, ${inflight} in flight; zones: TurboFan / Maglev MB allocated over the run`);
for (let round = 0; round < runs; round++) {
  for (const variant of variants) {
    for (const agent of variant === 'none' ? [agents[0]] : agents) {
      const r = await run(agent, variant, round);
      const who = variant === 'none' ? 'no agent' : agent;
      console.log(`${variant} | ${who} | compiled Maglev ${r.maglev} (${r.maglevMs.toFixed(0)} ms), TurboFan ${r.turbofan} (${r.turbofanMs.toFixed(0)} ms) | deopts ${r.deopts} (wrong map ${r.wrongMap}) | zones ${r.zones.map((z) => z.toFixed(1)).join(' / ')} | scavenges ${r.scavenges}, kept ${r.keptKb.toFixed(0)} KB, new space grew ${r.growths.join(', ') || 'never'} | peak RSS ${r.peakMb.toFixed(1)} MB`);
      if (byFunction) console.log(`  deoptimised: ${[...r.deopted].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    }
  }
}
sink.close();
