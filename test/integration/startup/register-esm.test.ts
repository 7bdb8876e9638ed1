// register.mjs starts the agent without Node's CommonJS file loader where Node has
// process.getBuiltinModule: it reads and compiles register.cjs and the code cache's loader itself (their
// paths are known), so an ES-module app's start-up does not compile the loader's resolve and read code for
// the agent (docs/performance.md, "Start-up"). What must hold: the agent starts and traces; the two files
// are the require.cache entries a later require() gets (one instance); nothing of ours is resolved through
// Module._resolveFilename on the way; given twice (--require and --import) one agent starts; under
// --enable-source-maps it goes through require() as before.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { REGISTER, ROOT, runNodeUntracked } from '../../helpers/run-node.js';

// Untracked: tap's NODE_OPTIONS would turn source maps on, and with them the require() path.

const hasGetBuiltin = typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function';

// Preloaded before the agent: records every file Module._resolveFilename resolves.
const RESOLVES = `
import { createRequire } from 'node:module';
const Module = createRequire(import.meta.url)('node:module');
const original = Module._resolveFilename;
globalThis.resolved = [];
Module._resolveFilename = function (request, ...rest) {
  const file = original.call(this, request, ...rest);
  globalThis.resolved.push(file);
  return file;
};
`;

const APP = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const root = process.env.AGENT_ROOT;
const ours = (globalThis.resolved ?? []).filter((f) => f.startsWith(root));
const cached = [root + '/register.cjs', root + '/dist/src/agent/code-cache.js'].map((f) => require.cache[f] !== undefined);
const sameLoader = require(root + '/dist/src/agent/code-cache.js') === require.cache[root + '/dist/src/agent/code-cache.js'].exports;
const { globalTracer } = require(root + '/dist/src/index.js');
const span = globalTracer().startSpan('probe');
console.log(JSON.stringify({ ours, cached, sameLoader, traced: span.context().toTraceId() !== '' }));
span.finish();
`;

t.test('an ES-module app: the agent starts without resolving its own files through the CommonJS loader', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'register-esm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'resolves.mjs'), RESOLVES);
  writeFileSync(path.join(dir, 'app.mjs'), APP);
  const env = { TRACING_EXPORTER: 'none', AGENT_ROOT: ROOT };
  const r = runNodeUntracked(['--import', path.join(dir, 'resolves.mjs'), '--import', REGISTER, path.join(dir, 'app.mjs')], { cwd: dir, env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'no warning');
  const out = JSON.parse(r.stdout);
  t.same(out.cached, [true, true], 'register.cjs and code-cache.js are in require.cache');
  t.equal(out.sameLoader, true, 'a later require() gets the same code-cache.js instance');
  t.equal(out.traced, true, 'the agent traces');
  if (hasGetBuiltin) t.same(out.ours, [], 'none of the agent\'s files went through Module._resolveFilename');
  else t.ok(out.ours.includes(path.join(ROOT, 'register.cjs')), 'without process.getBuiltinModule: through require(), as before');
});

t.test('given twice, or under --enable-source-maps, one agent starts', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'register-esm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.mjs'), APP);
  const env = { TRACING_EXPORTER: 'none', AGENT_ROOT: ROOT, TRACING_LOG_LEVEL: 'info' };
  const runs: Array<[string, string[]]> = [
    ['--require and --import', ['--require', path.join(ROOT, 'register.cjs'), '--import', REGISTER]],
    ['--import twice', ['--import', REGISTER, '--import', REGISTER]],
    ['--enable-source-maps', ['--enable-source-maps', '--import', REGISTER]],
  ];
  for (const [name, args] of runs) {
    const r = runNodeUntracked([...args, path.join(dir, 'app.mjs')], { cwd: dir, env });
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    // The start-up line is written once per agent started.
    t.equal(r.stderr.split('\n').filter((l) => l.includes('info: service ')).length, 1, `${name}: one agent`);
    t.equal(JSON.parse(r.stdout).traced, true, `${name}: traces`);
  }
});

// The package's `./register` for --import: register.mjs where Node resolves the `module-sync` condition (20.19+,
// 22.10+: every release with it has process.getBuiltinModule, so register.mjs needs no import of node:module);
// elsewhere register-compat.mjs, which imports register.mjs and starts the agent through require() where
// getBuiltinModule is missing (Node 20.6 - 20.15, 22.0 - 22.2). Those releases are simulated here:
// --no-experimental-require-module turns the condition off, and a module imported first deletes
// process.getBuiltinModule.
const BY_NAME_APP = `
console.log(JSON.stringify({
  entry: import.meta.resolve('@acme/tracing-agent/register'),
  started: globalThis[Symbol.for('@acme/tracing-agent.started')] === true,
}));
`;

t.test('--import @acme/tracing-agent/register: register.mjs, or register-compat.mjs where Node lacks module-sync or getBuiltinModule', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'register-esm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules', '@acme'), { recursive: true });
  symlinkSync(ROOT, path.join(dir, 'node_modules', '@acme', 'tracing-agent'), 'dir');
  writeFileSync(path.join(dir, 'app.mjs'), BY_NAME_APP);
  writeFileSync(path.join(dir, 'no-get-builtin.mjs'), 'delete process.getBuiltinModule;\n');
  const env = { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'info' };
  const requireModule = (process as { features: { require_module?: boolean } }).features.require_module === true;
  const compat = pathToFileURL(path.join(ROOT, 'register-compat.mjs')).href;
  const runs: Array<[string, string[], string]> = [
    ['by name', [], pathToFileURL(REGISTER).href],
    ['by name, no module-sync', ['--no-experimental-require-module'], compat],
    ['by name, no module-sync nor getBuiltinModule', ['--no-experimental-require-module', '--import', './no-get-builtin.mjs'], compat],
  ];
  for (const [name, args, entry] of runs) {
    if (name === 'by name' && !requireModule) continue;
    const r = runNodeUntracked([...args, '--import', '@acme/tracing-agent/register', 'app.mjs'], { cwd: dir, env });
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    t.equal(r.stderr.split('\n').filter((l) => l.includes('info: service ')).length, 1, `${name}: one agent`);
    t.equal(r.stderr.includes('warn'), false, `${name}: no warning`);
    t.same(JSON.parse(r.stdout), { entry, started: true }, `${name}: the entry, and the agent started before the app`);
  }
});

t.test('register.mjs by its path without getBuiltinModule: one warning, and the app runs untraced', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'register-esm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.mjs'), `console.log(globalThis[Symbol.for('@acme/tracing-agent.started')] === true ? 'traced' : 'untraced');\n`);
  writeFileSync(path.join(dir, 'no-get-builtin.mjs'), 'delete process.getBuiltinModule;\n');
  const r = runNodeUntracked(['--import', './no-get-builtin.mjs', '--import', REGISTER, 'app.mjs'], { cwd: dir, env: { TRACING_EXPORTER: 'none' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'untraced');
  t.match(r.stderr, /^\[tracing-agent\] warn: could not start, the app runs untraced: Node v[\d.]+ has no process\.getBuiltinModule; use --import @acme\/tracing-agent\/register/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
});
