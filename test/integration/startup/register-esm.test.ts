// register.mjs starts the agent without Node's CommonJS file loader where Node has
// process.getBuiltinModule: it reads and compiles register.cjs and the code cache's loader itself (their
// paths are known), so an ES-module app's start-up does not compile the loader's resolve and read code for
// the agent (docs/performance.md, "Start-up"). What must hold: the agent starts and traces; the two files
// are the require.cache entries a later require() gets (one instance); nothing of ours is resolved through
// Module._resolveFilename on the way; given twice (--require and --import) one agent starts; under
// --enable-source-maps it goes through require() as before.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
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
