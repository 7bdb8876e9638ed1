// Start-up of two builds of the agent, interleaved in one run, with the loader thread on its own:
// CPU of all threads and peak RSS from /usr/bin/time (wall time swings too much on a shared machine).
// Usage (after `npx tsc -p .` here and in the other tree):
//   node benchmarks/startup/compare-builds.mjs --before /path/to/other/checkout [--runs 10]
// Also prints how many files `--import register.mjs` loads in each build (CommonJS, via Module._load).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const beforeRoot = arg('before', null);
if (beforeRoot === null) {
  console.error('usage: compare-builds.mjs --before <checkout with dist/> [--runs 10]');
  process.exit(1);
}
const runs = Math.max(1, Math.min(50, Number(arg('runs', '10')) || 10));
const script = path.join(here, 'empty.mjs');
const before = path.join(path.resolve(beforeRoot), 'register.mjs');
const after = path.join(root, 'register.mjs');
const emptyHook = `data:text/javascript,${encodeURIComponent("import{register}from'node:module';register('data:text/javascript,export async function resolve(s,c,n){return n(s,c)}')")}`;
// Given as the first --import, so it sees every CommonJS file the agent loads.
const countFiles = `data:text/javascript,${encodeURIComponent("import M from'node:module';const o=M._load,s=new Set();M._load=function(r,p,m){try{const f=M._resolveFilename(r,p,m);if(f.includes('/'))s.add(f)}catch{}return o.apply(this,arguments)};process.on('exit',()=>process.stderr.write('files='+s.size+'\\n'))")}`;
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const variants = [
  { name: 'no agent', args: [] },
  { name: '--import of an empty module', args: ['--import', path.join(here, 'nothing.mjs')] },
  { name: 'module.register of an empty hook (loader thread)', args: ['--import', emptyHook] },
  { name: 'before, TRACING_EXPORTER=none', args: ['--import', before], env: { TRACING_EXPORTER: 'none' }, count: true },
  { name: 'after, TRACING_EXPORTER=none', args: ['--import', after], env: { TRACING_EXPORTER: 'none' }, count: true },
  { name: 'before, OTLP (default)', args: ['--import', before], count: true },
  { name: 'after, OTLP (default)', args: ['--import', after], count: true },
];

function once(variant) {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, ...variant.args, script], { env: { ...baseEnv, ...variant.env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${variant.name} failed: ${r.stderr}`);
  const [user, sys, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (user + sys) * 1000, rss: kb / 1024 };
}

function files(variant) {
  const r = spawnSync(process.execPath, ['--import', countFiles, ...variant.args, script], { env: { ...baseEnv, ...variant.env }, encoding: 'utf8' });
  return /files=(\d+)/.exec(r.stderr)?.[1] ?? '?';
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const samples = variants.map(() => []);
once(variants[0]); // warm the file system cache
for (let i = 0; i < runs; i++) variants.forEach((v, j) => samples[j].push(once(v)));
const med = (j, key) => median(samples[j].map((s) => s[key]));
console.log(`node ${process.version}, empty .mjs, ${runs} runs interleaved, median (CPU at 10 ms resolution)`);
console.log('| variant | files loaded | wall ms | added CPU ms | added peak RSS MB |');
console.log('|---|---|---|---|---|');
variants.forEach((v, j) => {
  console.log(`| ${v.name} | ${v.count ? files(v) : ''} | ${med(j, 'ms').toFixed(0)} | ${(med(j, 'cpu') - med(0, 'cpu')).toFixed(0)} | ${(med(j, 'rss') - med(0, 'rss')).toFixed(1)} |`);
});
