// Start-up cost of the agent: an empty script run with and without `--import register.mjs`,
// interleaved, median of N runs each. Usage:
//   node benchmarks/startup/startup.mjs [--runs 10] [--node /path/to/node]
// Run `npx tsc -p .` first (the agent is loaded from dist/).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const runs = Math.max(1, Math.min(50, Number(arg('runs', '10')) || 10));
const node = arg('node', process.execPath);
if (!existsSync(path.join(root, 'dist', 'src', 'agent', 'start.js'))) {
  console.error('build first: npx tsc -p .');
  process.exit(1);
}

const register = path.join(root, 'register.mjs');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const variants = [
  { name: 'no agent', args: [] },
  { name: '--import of an empty module', args: ['--import', path.join(here, 'nothing.mjs')] },
  { name: 'agent', args: ['--import', register], env: { TRACING_EXPORTER: 'none' } },
  { name: 'agent, TRACING_ENABLED=false', args: ['--import', register], env: { TRACING_ENABLED: 'false' } },
];

function once(variant, script) {
  const started = process.hrtime.bigint();
  const r = spawnSync(node, [...variant.args, path.join(here, script)], { env: { ...baseEnv, ...variant.env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${variant.name} failed: ${r.stderr}`);
  return { ms, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

console.log(`node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${runs} runs each, interleaved, median`);
for (const script of ['empty.cjs', 'empty.mjs']) {
  const samples = variants.map(() => []);
  once(variants[0], script); // warm the file system cache
  for (let i = 0; i < runs; i++) variants.forEach((v, j) => samples[j].push(once(v, script)));
  const base = { ms: median(samples[0].map((s) => s.ms)), maxRss: median(samples[0].map((s) => s.maxRss)), heap: median(samples[0].map((s) => s.heapUsed)) };
  console.log(`\n${script}`);
  console.log('variant                          wall ms   added ms   max RSS MB   added MB   heap MB');
  variants.forEach((v, j) => {
    const ms = median(samples[j].map((s) => s.ms));
    const maxRss = median(samples[j].map((s) => s.maxRss));
    const heap = median(samples[j].map((s) => s.heapUsed));
    console.log(
      `${v.name.padEnd(32)} ${ms.toFixed(1).padStart(7)} ${(ms - base.ms).toFixed(1).padStart(10)} ${mb(maxRss).padStart(12)} ${mb(maxRss - base.maxRss).padStart(10)} ${mb(heap).padStart(9)}`,
    );
  });
}
