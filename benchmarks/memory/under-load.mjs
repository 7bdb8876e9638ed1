// Where the agent's memory goes (issue 20: peak RSS added <= 15 MB, at start and under load). The plain
// http app of benchmarks/overhead/apps, started fresh per variant and sample, idle for --idle ms after it
// listens (start-up alone), then loaded open-loop at --rate requests/s for --seconds
// (benchmarks/cpu/load-child.mjs). A preloaded probe (./probe.cjs) records memory by kind every 250 ms;
// reported per variant, medians over --rounds (variants interleaved, order rotated), added over no agent:
// peak RSS (VmHWM) after the idle wait and at the end, and at the end the V8 heap (new, old, code and
// large-object spaces) and what lives outside it (external memory, array buffers).
// Variants: none | otlp (sampled, OTLP/HTTP to a sink here) | exporter-none | unsampled | down (endpoint
// refusing: the queue fills to its bound) | disabled (TRACING_ENABLED=false).
// Usage: node benchmarks/memory/under-load.mjs [--rate 3000] [--seconds 5] [--idle 600] [--rounds 2]
//        [--variants none,otlp,exporter-none,unsampled,down,disabled] [--agent /path/to/built/checkout] [--node /path/to/node]
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const node = arg('node', process.execPath);
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled,down,disabled').split(',');
const app = path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'memory-under-load-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;
const probe = net.createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const downUrl = `http://127.0.0.1:${probe.address().port}/v1/traces`;
await new Promise((r) => probe.close(r));

const all = {
  none: null,
  otlp: { TRACING_ENDPOINT: sinkUrl },
  'exporter-none': { TRACING_EXPORTER: 'none' },
  unsampled: { TRACING_SAMPLER: 'always_off', TRACING_ENDPOINT: sinkUrl },
  down: { TRACING_ENDPOINT: downUrl },
  disabled: { TRACING_ENABLED: 'false' },
};
const variants = wanted.filter((w) => w in all);
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)));

async function sample(name, round) {
  const out = path.join(work, `${name}-${round}.jsonl`);
  const extra = all[name];
  const args = ['--require', path.join(here, 'probe.cjs'), ...(extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]), app];
  const child = spawn(node, args, { env: { ...baseEnv, ...(extra ?? {}), TRACING_LOG_LEVEL: 'error', TRACING_CACHE_DIR: path.join(work, 'code-cache'), PORT: '0', MEMORY_PROBE_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'] });
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
  await new Promise((resolve, reject) => execFile(process.execPath, [path.join(root, 'benchmarks', 'cpu', 'load-child.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(seconds), '8'], (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, 300));
  const underLoad = peakRssBytes(child.pid);
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const max = (k) => Math.max(...rows.map((r) => r[k]));
  return { atStart, underLoad, newSpace: max('newSpace'), oldSpace: max('oldSpace'), codeSpace: max('codeSpace'), largeObjects: max('largeObjects'), external: max('external'), arrayBuffers: max('arrayBuffers') };
}

const results = new Map(variants.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  for (const v of variants.map((_, i) => variants[(i + round) % variants.length])) results.get(v).push(await sample(v, round));
  process.stderr.write(`round ${round + 1}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
sink.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
const keys = ['atStart', 'underLoad', 'newSpace', 'oldSpace', 'codeSpace', 'largeObjects', 'external', 'arrayBuffers'];
const med = new Map(variants.map((v) => [v, Object.fromEntries(keys.map((k) => [k, median(results.get(v).map((r) => r[k]))]))]));
const base = med.get('none');
console.log(`Node ${node === process.execPath ? process.version : node}; ${agent}; ${rate} req/s for ${seconds} s after ${idleMs} ms idle; ${rounds} rounds; MB, median${base ? ' (added over no agent in brackets)' : ''}`);
console.log('');
console.log('| variant | peak RSS at start | peak RSS under load | new space | old space | code space | large objects | external | array buffers |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const v of variants) {
  const m = med.get(v);
  const cell = (k) => (base && v !== 'none' ? `${mb(m[k])} (${m[k] >= base[k] ? '+' : ''}${mb(m[k] - base[k])})` : mb(m[k]));
  console.log(`| ${v} | ${keys.map(cell).join(' | ')} |`);
}
