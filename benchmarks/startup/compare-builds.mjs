// Start-up of two builds of the agent against no agent, interleaved in one run: an empty script and a
// small express app, each as CommonJS and as an ES module, on one or more Node lines, unpinned and
// pinned to one core (`taskset -c 0`: a one-CPU container, where a loader thread competes with the app).
//
// The scripts are copied to a temporary folder whose node_modules holds express only, as in a user's
// app: run from inside this repository they would see its devDependencies (graphql, …), and the agent
// starts an ES-module loader hook when an installed target package loads as ES-module code.
//
// Usage (after `npm run build` here and in the other tree):
//   node benchmarks/startup/compare-builds.mjs --before /path/to/other/build [--runs 21] [--lines 20,24]
//        [--pin both|no|yes] [--scripts empty,express] [--exporter none|otlp] [--packages graphql]
// --packages: more of this repository's packages linked into the app's node_modules (installed, not
// imported), e.g. graphql 16, which made Node 20 start the loader thread until round seven.
// Per process: wall ms (spawn to exit, measured here), CPU ms of all threads and peak RSS (read by a
// --require'd reporter at 'exit': process.cpuUsage() and resourceUsage().maxRSS cover every thread).
// Medians per variant, and "added" as the difference of the variant's median and no agent's median (the
// columns every round since round five reports, kept so tables compare across rounds).
//
// Paired figures (round fourteen): the medians' difference swung by 15 - 70 ms between passes and builds
// in round thirteen's quiet window while the agent's own start costs ~20 ms of CPU, because on this VM a
// process's speed is a state of the machine that changes within seconds and moves every process alike
// (round eleven, docs/performance.md). Each interleaved round runs no agent, the floor, before and after
// within a second, so each round gives one paired difference per variant (its process minus the no-agent
// process of the same round) in which most of that state cancels. "paired" is the median of those
// differences with a bootstrap 95 % interval of it (benchmarks/overhead/intervals.mjs), and the verdict
// on the target (issue 20: at most +30 ms of CPU over no agent) reads the whole interval: "met" when it
// lies at or under +30, "not met" when it lies above, "not resolved" when it holds +30. The floor row gets
// its interval but no verdict: it is Node's charge to any --import, not the agent's.
// Default runs: 21 per variant (until round thirteen 10, and 11 in the quiet windows). In round thirteen's
// quiet window (load ~1.3) one round of both lines (32 processes) took ~6 s unpinned and ~8.6 s pinned, so
// 21 rounds keep a pass of --lines 20,24 near 2 min unpinned and 3 min pinned, while the interval of a
// median narrows as 1/sqrt(runs): about a quarter narrower than with 11. An odd count keeps the median one
// process. Under load a pass takes longer (docs/performance.md, "Start-up", round fourteen).
// The "--import floor" row is `--import` of an empty module and no agent: what Node itself charges any
// --import-based agent (on Node 20 a CommonJS main then runs through the ES-module loader). Reported beside
// the builds, like the closed loop's als-floor row; the target is judged on "after" against no agent.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intervalVerdict, summarizePasses } from '../overhead/intervals.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const beforeRoot = arg('before', null);
const runs = Math.max(1, Math.min(50, Number(arg('runs', '21')) || 21));
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

/** Issue 20's start-up target: CPU of all threads added over no agent. */
const TARGET_CPU_MS = 30;
const signed = (x, d = 0) => (x >= 0 ? '+' : '') + x.toFixed(d);
// One decimal: the verdict is taken on the unrounded interval, and a bound printed as +30 could be +30.4
// ("not resolved" beside a bracket that seemed to meet the goal: round fourteen's window).
const withInterval = (p) => (p === null ? '' : p.interval === null ? signed(p.median, 1) : `${signed(p.median, 1)} [${signed(p.interval[0], 1)}, ${signed(p.interval[1], 1)}]`);

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
      // Run i of variant j against run i of no agent: the same interleaved round, seconds apart.
      const paired = (j, key) => summarizePasses([samples[j].map((s, i) => s[key] - samples[0][i][key])]);
      variants.forEach((v, j) => {
        const pairedCpu = j === 0 ? null : paired(j, 'cpu');
        const verdict = j === 0 || v.name === '--import floor' ? '' : intervalVerdict({ value: pairedCpu.median, interval: pairedCpu.interval, atMost: TARGET_CPU_MS }).replace(/^yes\b/, 'met').replace(/^no\b/, 'not met');
        rows.push({ version, pinned, script: script.label, variant: v.name, ms: med(j, 'ms'), cpu: med(j, 'cpu'), rss: med(j, 'rss'), addMs: med(j, 'ms') - med(0, 'ms'), addCpu: med(j, 'cpu') - med(0, 'cpu'), addRss: med(j, 'rss') - med(0, 'rss'), pairedCpu, pairedMs: j === 0 ? null : paired(j, 'ms'), verdict });
      });
      process.stderr.write(`${version} ${pinned ? 'pinned' : 'unpinned'} ${script.label} done\n`);
    }
  }
}

console.log(`${runs} runs per variant, interleaved, medians; paired = median of the per-round differences to no agent [bootstrap 95 % interval]; target CPU <= +${TARGET_CPU_MS} ms judged on the interval; exporter ${exporter}${arg('packages', '') === '' ? '' : `; also installed: ${arg('packages', '')}`}`);
console.log(`| Node | cores | script | variant | wall ms | added wall ms | CPU ms | added CPU ms | peak RSS MB | added peak RSS MB | added CPU ms, paired | added wall ms, paired | CPU <= +${TARGET_CPU_MS} ms |`);
console.log('|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const added = (x, d = 0) => (r.variant === 'no agent' ? '' : signed(x, d));
  console.log(`| ${r.version} | ${r.pinned ? '1 (taskset)' : 'all'} | ${r.script} | ${r.variant} | ${r.ms.toFixed(0)} | ${added(r.addMs)} | ${r.cpu.toFixed(0)} | ${added(r.addCpu)} | ${r.rss.toFixed(1)} | ${added(r.addRss, 1)} | ${withInterval(r.pairedCpu)} | ${withInterval(r.pairedMs)} | ${r.verdict} |`);
}
for (const build of variants.filter((v) => v.name === 'before' || v.name === 'after')) {
  const judged = rows.filter((r) => r.variant === build.name);
  const count = (word) => judged.filter((r) => r.verdict.startsWith(word)).length;
  const widths = judged.map((r) => (r.pairedCpu.interval === null ? NaN : r.pairedCpu.interval[1] - r.pairedCpu.interval[0])).filter(Number.isFinite).sort((a, b) => a - b);
  const spread = widths.length === 0 ? '' : `; CPU interval widths ${widths[0].toFixed(0)} - ${widths[widths.length - 1].toFixed(0)} ms (median ${widths[widths.length >> 1].toFixed(0)})`;
  console.log(`${build.name}: CPU <= +${TARGET_CPU_MS} ms met on ${count('met')}, not met on ${count('not met')}, not resolved on ${count('not resolved')} of ${judged.length} rows${spread}`);
}
