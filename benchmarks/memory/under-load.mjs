// Where the agent's memory goes (issue 20: peak RSS added <= 15 MB, at start and under load). The plain
// http app of benchmarks/overhead/apps, started fresh per variant and sample, idle for --idle ms after it
// listens (start-up alone), then loaded open-loop at --rate requests/s for --seconds
// (benchmarks/cpu/load-child.mjs). A preloaded probe (./probe.cjs) records memory by kind every 250 ms;
// reported per variant, medians over --rounds (variants interleaved, order rotated), added over no agent:
// peak RSS (VmHWM) and threads after the idle wait, peak RSS at the end, and at the end the V8 heap (new,
// old, code and large-object spaces) and what lives outside it (external memory, array buffers).
// The app runs from its own temporary folder (its working directory too) whose node_modules holds only
// what it uses, none for this app, as a user's plain http app: what the agent does at start depends on
// the packages installed where the app resolves them (from this repository the app would see its
// devDependencies; @graphql-tools/executor, whose import loads ES-module code, starts the module.register
// loader thread on Node 20).
// Variants: none | otlp (sampled, OTLP/HTTP to a sink here) | exporter-none | unsampled | down (endpoint
// refusing: the queue fills to its bound) | disabled (TRACING_ENABLED=false) | graphql (otlp, the same app
// with graphql 16 installed next to it: until round seven Node 20, which has no module.registerHooks to
// notice a deep import of graphql's .mjs build, started the loader thread for it; now only with
// TRACING_IMPORT_HOOK=always).
// --before <built checkout> runs every agent variant of that build too, interleaved, as "<variant> (before)".
// Outside V8's heap, at the end of the load (/proc/<pid>/smaps, resident now, not peak): the main thread's
// malloc heap ([heap]: glibc's main arena, where the main thread's native allocations and the compilers'
// jobs started there go), the other threads' malloc arenas (the optimizing compilers' zones on V8's worker
// threads: glibc keeps what a zone freed there resident) and the other anonymous memory (V8's pages). Round
// twelve split the Node 24 rows with these and with --node-flags "--max-opt=1" (no Maglev, no TurboFan),
// round fifteen with "--no-maglev" (diagnosis only, never the figure).
// Usage: node benchmarks/memory/under-load.mjs [--rate 3000] [--seconds 5] [--idle 600] [--rounds 2]
//        [--variants none,otlp,exporter-none,unsampled,down,disabled,graphql] [--agent /path/to/built/checkout]
//        [--before /path/to/built/checkout] [--node /path/to/node] [--node-flags "--max-opt=1"] [--app other-app.mjs]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectorEndpoints, variantEnvs } from './endpoints.mjs';
import { peakRssBytes } from '../overhead/process-stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const rate = Number(arg('rate', '3000'));
const seconds = Number(arg('seconds', '5'));
const idleMs = Number(arg('idle', '600'));
const rounds = Number(arg('rounds', '2'));
const agent = path.resolve(arg('agent', root));
const before = arg('before', null);
const node = arg('node', process.execPath);
const nodeFlags = arg('node-flags', '').split(/\s+/).filter((f) => f !== '');
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled,down,disabled,graphql').split(',');
// Another app in place of the plain http app (the graphql variant keeps it), e.g. ./hot-functions-app.mjs.
const appFile = path.resolve(arg('app', path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs')));
const work = mkdtempSync(path.join(os.tmpdir(), 'memory-under-load-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** A folder holding the app and a node_modules with `packages` only (linked from this repository's). */
function appFolder(name, packages, file) {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  copyFileSync(file, path.join(dir, 'http.mjs'));
  for (const p of packages) symlinkSync(realpathSync(path.join(root, 'node_modules', p)), path.join(dir, 'node_modules', p));
  return dir;
}
const plainApp = appFolder('app', [], appFile);
const graphqlApp = appFolder('app-graphql', ['graphql'], path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs'));

const endpoints = await collectorEndpoints();
const { sink, sinkUrl } = endpoints;

const all = {
  ...variantEnvs(endpoints),
  disabled: { TRACING_ENABLED: 'false' },
  graphql: { TRACING_ENDPOINT: sinkUrl },
};
const picked = wanted.filter((w) => w in all);
const BEFORE = ' (before)';
const variants = before === null ? picked : picked.flatMap((v) => (all[v] === null ? [v] : [v, v + BEFORE]));
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)));

async function sample(name, round) {
  const out = path.join(work, `${name.replace(BEFORE, '-before')}-${round}.jsonl`);
  const variant = name.replace(BEFORE, '');
  const build = name.endsWith(BEFORE) ? path.resolve(before) : agent;
  const extra = all[variant];
  const dir = variant === 'graphql' ? graphqlApp : plainApp;
  const args = [...nodeFlags, '--require', path.join(here, 'probe.cjs'), ...(extra === null ? [] : ['--import', path.join(build, 'register.mjs')]), path.join(dir, 'http.mjs')];
  // One code-cache folder per build: the caches are keyed by build, but a shared folder would let one
  // build's cache writes land inside the other's samples.
  const cacheDir = path.join(work, name.endsWith(BEFORE) ? 'code-cache-before' : 'code-cache');
  const child = spawn(node, args, { cwd: dir, env: { ...baseEnv, ...(extra ?? {}), TRACING_LOG_LEVEL: 'error', TRACING_CACHE_DIR: cacheDir, PORT: '0', MEMORY_PROBE_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    child.on('exit', (code) => reject(new Error(`${name}: server exited ${code}`)));
    child.stdout.on('data', (d) => {
      text += d;
      const m = /listening on (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
  });
  await new Promise((r) => setTimeout(r, idleMs));
  const atStart = peakRssBytes(child.pid);
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
  await new Promise((resolve, reject) => execFile(process.execPath, [path.join(root, 'benchmarks', 'cpu', 'load-child.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(seconds), '8'], (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, 300));
  const underLoad = peakRssBytes(child.pid);
  const { mallocHeap, arenas, otherAnon } = anonymousResident(child.pid);
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const max = (k) => Math.max(...rows.map((r) => r[k]));
  return { atStart, threads, underLoad, newSpace: max('newSpace'), oldSpace: max('oldSpace'), codeSpace: max('codeSpace'), largeObjects: max('largeObjects'), external: max('external'), arrayBuffers: max('arrayBuffers'), mallocHeap, arenas, otherAnon };
}

/**
 * Resident bytes, now, of the main thread's malloc heap ([heap]), of the other threads' malloc arenas (glibc
 * gives a thread its own heap: a 64 MiB-aligned mapping, read-write up to what it has used and inaccessible
 * beyond, 64 MiB in all) and of the other anonymous mappings (V8's pages, among them).
 */
function anonymousResident(pid) {
  const maps = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      maps.push({ start: BigInt(`0x${mapping[1]}`), end: BigInt(`0x${mapping[2]}`), writable: mapping[3][1] === 'w', name: mapping[4], rss: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null && maps.length > 0) maps[maps.length - 1].rss = Number(rss[1]) * 1024;
  }
  const arenaSize = 64n << 20n;
  let mallocHeap = 0;
  let arenas = 0;
  let otherAnon = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    if (m.name === '[heap]') mallocHeap += m.rss;
    if (m.name !== '') continue;
    const rest = maps[i + 1];
    const arena = m.writable && m.start % arenaSize === 0n && (m.end - m.start === arenaSize || (rest !== undefined && rest.name === '' && !rest.writable && rest.start === m.end && rest.end - m.start === arenaSize));
    if (arena) arenas += m.rss;
    else otherAnon += m.rss;
  }
  return { mallocHeap, arenas, otherAnon };
}

const results = new Map(variants.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  for (const v of variants.map((_, i) => variants[(i + round) % variants.length])) results.get(v).push(await sample(v, round));
  process.stderr.write(`round ${round + 1}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
sink.close();

// With an even number of rounds, the mean of the middle two (the upper one alone would report the larger of 2).
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const keys = ['atStart', 'threads', 'underLoad', 'newSpace', 'oldSpace', 'codeSpace', 'largeObjects', 'external', 'arrayBuffers', 'mallocHeap', 'arenas', 'otherAnon'];
const med = new Map(variants.map((v) => [v, Object.fromEntries(keys.map((k) => [k, median(results.get(v).map((r) => r[k]))]))]));
const base = med.get('none');
console.log(`Node ${node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}${nodeFlags.length > 0 ? ` ${nodeFlags.join(' ')}` : ''}; ${agent}${before === null ? '' : ` (before: ${path.resolve(before)})`}; ${path.basename(appFile)} in its own folder; ${rate} req/s for ${seconds} s after ${idleMs} ms idle; ${rounds} rounds; MB, median${base ? ' (added over no agent in brackets)' : ''}`);
console.log('');
console.log('| variant | peak RSS at start | threads at start | peak RSS under load [lowest – highest sample] | new space | old space | code space | large objects | external | array buffers | malloc [heap] at end | threads\' malloc arenas at end | other anonymous at end |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const v of variants) {
  const m = med.get(v);
  const show = (k, x) => (k === 'threads' ? String(x) : mb(x));
  const cell = (k) => (base && v !== 'none' ? `${show(k, m[k])} (${m[k] >= base[k] ? '+' : ''}${show(k, m[k] - base[k])})` : show(k, m[k])) + spread(k);
  // Peak RSS under load moves by several MB from sample to sample on Node 24 (the optimizing compilers'
  // memory): the lowest and highest sample are shown next to the median.
  const spread = (k) => {
    if (k !== 'underLoad' || rounds < 2) return '';
    const xs = results.get(v).map((r) => r[k]);
    return ` [${mb(Math.min(...xs))} – ${mb(Math.max(...xs))}]`;
  };
  console.log(`| ${v} | ${keys.map(cell).join(' | ')} |`);
}
