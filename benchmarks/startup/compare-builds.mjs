// Start-up of two builds of the agent against no agent, interleaved in one run: an empty script and a
// small express app, each as CommonJS and as an ES module, on one or more Node lines, unpinned and
// pinned to one core (`taskset -c 0`: a one-CPU container, where a loader thread competes with the app).
//
// The scripts are copied to a temporary folder whose node_modules holds express only, as in a user's
// app: run from inside this repository they would see its devDependencies (graphql, …), and the agent
// starts an ES-module loader hook when an installed target package loads as ES-module code.
//
// Usage (after `npm run build` here and in the other tree):
//   node benchmarks/startup/compare-builds.mjs --before /path/to/other/build [--runs 10] [--lines 20,24]
//        [--pin both|no|yes] [--scripts empty,express] [--exporter none|otlp] [--packages graphql]
// --packages: more of this repository's packages linked into the app's node_modules (installed, not
// imported), e.g. graphql 16, which made Node 20 start the loader thread until round seven.
// Per process: wall ms (spawn to exit, measured here), CPU ms of all threads and peak RSS (read by a
// --require'd reporter at 'exit': process.cpuUsage() and resourceUsage().maxRSS cover every thread).
// Medians; "added" is against no agent in the same run.
// The "--import floor" row is `--import` of an empty module and no agent: what Node itself charges any
// --import-based agent (on Node 20 a CommonJS main then runs through the ES-module loader). Reported beside
// the builds, like the closed loop's als-floor row; the target is judged on "after" against no agent.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const beforeRoot = arg('before', null);
const runs = Math.max(1, Math.min(50, Number(arg('runs', '10')) || 10));
const pins = { both: [false, true], no: [false], yes: [true] }[arg('pin', 'both')] ?? [false, true];
const groups = arg('scripts', 'empty,express').split(',');
const exporter = arg('exporter', 'none');

const app = mkdtempSync(path.join(tmpdir(), 'startup-app-'));
mkdirSync(path.join(app, 'node_modules'));
for (const name of ['express', ...arg('packages', '').split(',').filter((p) => p !== '')]) {
  mkdirSync(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
  symlinkSync(realpathSync(path.join(root, 'node_modules', name)), path.join(app, 'node_modules', name));
}
for (const f of ['empty.cjs', 'empty.mjs', 'nothing.mjs']) copyFileSync(path.join(here, f), path.join(app, f));
for (const f of ['app.cjs', 'app.mjs']) copyFileSync(path.join(here, 'express', f), path.join(app, `express-${f}`));
const reporter = path.join(app, 'report-usage.cjs');
writeFileSync(reporter, "process.on('exit',()=>{const c=process.cpuUsage();process.stderr.write('USAGE '+JSON.stringify({cpu:(c.user+c.system)/1000,rss:process.resourceUsage().maxRSS/1024})+'\\n')});\n");
process.on('exit', () => rmSync(app, { recursive: true, force: true }));

const scripts = [
  { group: 'empty', file: 'empty.cjs', label: 'empty .cjs' },
  { group: 'empty', file: 'empty.mjs', label: 'empty .mjs' },
  { group: 'express', file: 'express-app.cjs', label: 'express .cjs' },
  { group: 'express', file: 'express-app.mjs', label: 'express .mjs' },
].filter((s) => groups.includes(s.group));
const env = exporter === 'none' ? { TRACING_EXPORTER: 'none' } : {};
const variants = [
  { name: 'no agent', args: [] },
  { name: '--import floor', args: ['--import', path.join(app, 'nothing.mjs')] },
  ...(beforeRoot === null ? [] : [{ name: 'before', args: ['--import', path.join(path.resolve(beforeRoot), 'register.mjs')], env }]),
  { name: 'after', args: ['--import', path.join(root, 'register.mjs')], env },
];
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));

function nodeFor(major) {
  if (major === process.versions.node.split('.')[0]) return process.execPath;
  const binary = path.join(root, 'test', 'integration', 'loader', 'node-lines', 'node_modules', `node${major}`, 'bin', 'node');
  if (!existsSync(binary)) throw new Error(`no Node ${major} binary at ${binary}`);
  return binary;
}

function once(node, pinned, variant, script) {
  const argv = [node, '--require', reporter, ...variant.args, path.join(app, script.file)];
  const [cmd, ...rest] = pinned ? ['taskset', '-c', '0', ...argv] : argv;
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, rest, { cwd: app, env: { ...baseEnv, ...variant.env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const usage = /USAGE (.*)/.exec(r.stderr ?? '');
  if (r.status !== 0 || usage === null) throw new Error(`${variant.name} ${script.label} failed: ${r.stderr}`);
  return { ms, ...JSON.parse(usage[1]) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const rows = [];
for (const major of arg('lines', process.versions.node.split('.')[0]).split(',')) {
  const node = nodeFor(major);
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  for (const pinned of pins) {
    for (const script of scripts) {
      const samples = variants.map(() => []);
      once(node, pinned, variants[0], script); // warm the file system cache
      for (let i = 0; i < runs; i++) variants.forEach((v, j) => samples[j].push(once(node, pinned, v, script)));
      const med = (j, key) => median(samples[j].map((s) => s[key]));
      variants.forEach((v, j) => {
        rows.push({ version, pinned, script: script.label, variant: v.name, ms: med(j, 'ms'), cpu: med(j, 'cpu'), rss: med(j, 'rss'), addMs: med(j, 'ms') - med(0, 'ms'), addCpu: med(j, 'cpu') - med(0, 'cpu'), addRss: med(j, 'rss') - med(0, 'rss') });
      });
      process.stderr.write(`${version} ${pinned ? 'pinned' : 'unpinned'} ${script.label} done\n`);
    }
  }
}

console.log(`${runs} runs per variant, interleaved, medians; exporter ${exporter}${arg('packages', '') === '' ? '' : `; also installed: ${arg('packages', '')}`}`);
console.log('| Node | cores | script | variant | wall ms | added wall ms | CPU ms | added CPU ms | peak RSS MB | added peak RSS MB |');
console.log('|---|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const added = (x, d = 0) => (r.variant === 'no agent' ? '' : (x >= 0 ? '+' : '') + x.toFixed(d));
  console.log(`| ${r.version} | ${r.pinned ? '1 (taskset)' : 'all'} | ${r.script} | ${r.variant} | ${r.ms.toFixed(0)} | ${added(r.addMs)} | ${r.cpu.toFixed(0)} | ${added(r.addCpu)} | ${r.rss.toFixed(1)} | ${added(r.addRss, 1)} |`);
}
