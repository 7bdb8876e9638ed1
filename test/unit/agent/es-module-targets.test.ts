// When the agent needs an ES-module loader hook (a thread on Node 20): only for a target installed where
// the app resolves packages whose `import` gets ES-module code. Packages are written to a temporary app
// folder, which becomes the working directory (the main script here is this test, in the repository,
// whose node_modules holds none of these names).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { firstEsModuleTarget as first } from '../../../src/agent/es-module-targets.js';
import type { HookTarget } from '../../../src/agent/registry.js';

const app = mkdtempSync(path.join(tmpdir(), 'es-module-targets-'));
t.teardown(() => rmSync(app, { recursive: true, force: true }));
const cwd = process.cwd();
process.chdir(app);
t.teardown(() => process.chdir(cwd));

function pkg(where: string, name: string, json: object, files: Record<string, string> = {}): void {
  const dir = path.join(app, where, ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...json }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

pkg('node_modules', 'x-commonjs', { main: 'lib/index.js' }, { 'lib/index.js': '' });
pkg('node_modules', 'x-type-module', { type: 'module', exports: './index.js' }, { 'index.js': '' });
pkg('node_modules', 'x-import-mjs', { main: 'index.js', exports: { '.': { import: './index.mjs', require: './index.js' } } });
pkg('node_modules', 'x-module-condition', { exports: { '.': { module: './esm/index.js', default: './cjs/index.js' } } });
pkg('node_modules', '@scope/x-dual', { type: 'module' }, { 'cjs/package.json': '{"type":"commonjs"}', 'cjs/run.js': '', 'esm/run.js': '' });
pkg('node_modules', 'x-mjs-twin', { main: 'index' }, { 'lib/run.js': '', 'lib/run.mjs': '' });
pkg(path.join('node_modules', '.pnpm', 'node_modules'), 'x-pnpm-hoisted', { type: 'module' });

const entry = (name: string, esModule?: boolean): HookTarget => (esModule === undefined ? { name, subpath: '' } : { name, subpath: '', esModule });
const file = (name: string, subpath: string): HookTarget => ({ name, subpath });
/** What `import '<package>'` loads decides (Node 20 by default). */
const firstEsModuleTarget = (targets: HookTarget[]) => first(targets, { deepImports: false });

t.test('CommonJS packages and built-ins need no hook', async (t) => {
  t.equal(firstEsModuleTarget([entry('http'), entry('x-commonjs'), entry('x-module-condition'), file('@scope/x-dual', 'cjs/run'), file('x-mjs-twin', 'lib/other')]), null);
});

t.test('an ES-module entry needs the hook: "type": "module", or an import export to an .mjs file', async (t) => {
  t.same(firstEsModuleTarget([entry('x-commonjs'), entry('x-type-module')]), entry('x-type-module'));
  t.same(firstEsModuleTarget([entry('x-import-mjs')]), entry('x-import-mjs'));
});

t.test('a file target needs it when importing the package loads ES-module code and the file is such code (nearest package.json)', async (t) => {
  t.same(firstEsModuleTarget([file('@scope/x-dual', 'esm/run')]), file('@scope/x-dual', 'esm/run'));
  for (const deepImports of [false, true]) t.same(first([file('@scope/x-dual', 'esm/run')], { deepImports }), file('@scope/x-dual', 'esm/run'), `deepImports ${deepImports}`);
});

t.test('a file with an .mjs twin in a package whose import loads CommonJS (graphql 16) counts only when deep imports do', async (t) => {
  t.equal(firstEsModuleTarget([file('x-mjs-twin', 'lib/run')]), null, 'import \'x-mjs-twin\' loads CommonJS code: no hook');
  t.same(first([file('x-mjs-twin', 'lib/run')], { deepImports: true }), file('x-mjs-twin', 'lib/run'), 'a deep import of lib/run.mjs reaches it');
  t.equal(first([file('x-mjs-twin', 'lib/other'), file('@scope/x-dual', 'cjs/run')], { deepImports: true }), null, 'no twin, or a CommonJS folder: none, deep imports counted or not');
});

t.test('a declaration wins over the package.json (an ES-module entry that only re-exports CommonJS)', async (t) => {
  t.equal(firstEsModuleTarget([entry('x-import-mjs', false)]), null);
  t.same(firstEsModuleTarget([entry('x-commonjs', true)]), entry('x-commonjs', true));
});

t.test('only installed packages count, pnpm\'s hoisted store included', async (t) => {
  t.equal(firstEsModuleTarget([entry('x-not-installed'), entry('x-not-installed', true)]), null, 'not installed: no hook, even when declared');
  t.same(firstEsModuleTarget([entry('x-pnpm-hoisted')]), entry('x-pnpm-hoisted'));
});
