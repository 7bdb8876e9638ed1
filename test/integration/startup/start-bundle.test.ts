import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, ROOT, runNode, runNodeUntracked } from '../../helpers/run-node.js';

// The start path is one generated file (scripts/bundle-start.mjs, run by `npm run build`): register loads
// it instead of ~70 files. What users rely on: the agent behaves as before (the whole suite runs through
// it), and every module of it is the one instance `require()` of its dist file gives, so the public API,
// the instrumentations (separate files) and the agent share one global tracer, one registry, one log level.
const BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'start-bundle.js');
const TRACING_BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'tracing-bundle.js');
const CORE_BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'core-bundle.js');
const dist = (rel: string): string => JSON.stringify(path.join(ROOT, 'dist', rel));

t.test('register starts the agent from the bundle, whose modules are the dist files\' instances', async (t) => {
  for (const flag of ['--import', '--require']) {
    const entry = flag === '--import' ? REGISTER : REGISTER.replace(/\.mjs$/, '.cjs');
    const r = await runNode([flag, entry, '-e', `
      const bundle = ${JSON.stringify(BUNDLE)};
      const fromBundle = require.cache[bundle] !== undefined && require.cache[${JSON.stringify(TRACING_BUNDLE)}] !== undefined;
      // Files of the bundle, required by path as the public API and the instrumentations do.
      const { globalTracer } = require(${dist('src/api/global.js')});
      const api = require('@acme/tracing-agent');
      const span = globalTracer().startSpan('x');
      // A second instance of the registry would watch nothing: it was never activated.
      const watching = require(${dist('src/agent/registry.js')}).registry.hookTargets().length > 0;
      console.log(JSON.stringify({ fromBundle, recording: span.isRecording(), apiSees: api.globalTracer().startSpan('y').isRecording(), watching }));
    `], { env: { TRACING_EXPORTER: 'none' } });
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout.trim()), { fromBundle: true, recording: true, apiSees: true, watching: true }, `${flag}: one instance of each module`);
    t.equal(r.stderr, '', `${flag}: no warning`);
  }
});

t.test("a bundle's module has its dist file's folder as module.path and __dirname", async (t) => {
  // One module of each bundle; module.path is what __dirname was given (the folder's text, not a resolve of it).
  const files = ['src/agent/start.js', 'src/agent/registry.js', 'src/tracer.js', 'instrumentations/frameworks/express.js'];
  const r = await runNode(['--import', REGISTER, '-e', `
    require('node:http');
    const files = ${JSON.stringify(files)}.map((rel) => require('node:path').join(${JSON.stringify(path.join(ROOT, 'dist'))}, rel));
    console.log(JSON.stringify(files.map((f) => { const m = require.cache[f]; return m === undefined ? null : [m.constructor === require('node:module') ? 'file' : 'held', m.path]; })));
  `], { env: { TRACING_EXPORTER: 'none' } });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), files.map((rel) => ['held', path.dirname(path.join(ROOT, 'dist', rel))]));
});

t.test("no bundle holds a copy of the code cache's loader, which register loads from its own file first", async (t) => {
  for (const bundle of [BUNDLE, TRACING_BUNDLE, CORE_BUNDLE]) {
    t.notMatch(readFileSync(bundle, 'utf8'), /^define\("src\/agent\/code-cache(-write)?\.js"/m, path.basename(bundle));
  }
});

t.test('the tracer core is read at the first instrumentation that runs or the first use of the API, not at start', async (t) => {
  const probe = (script: string) => `
    const held = () => require.cache[${JSON.stringify(CORE_BUNDLE)}] !== undefined;
    const atStart = held();
    ${script}
    console.log(JSON.stringify({ atStart, after: held() }));
  `;
  for (const flag of ['--import', '--require']) {
    const entry = flag === '--import' ? REGISTER : REGISTER.replace(/\.mjs$/, '.cjs');
    const nothing = await runNode([flag, entry, '-e', probe('')], { env: { TRACING_EXPORTER: 'none' } });
    t.equal(nothing.code, 0, nothing.stderr);
    t.same(JSON.parse(nothing.stdout.trim()), { atStart: false, after: false }, `${flag}: a script that loads nothing instrumented never reads it`);
    const http = await runNode([flag, entry, '-e', probe("require('node:http');")], { env: { TRACING_EXPORTER: 'none' } });
    t.equal(http.code, 0, http.stderr);
    t.same(JSON.parse(http.stdout.trim()), { atStart: false, after: true }, `${flag}: read when http is patched`);
    const api = await runNode([flag, entry, '-e', probe("const s = require('@acme/tracing-agent').globalTracer().startSpan('x'); if (!s.isRecording()) throw new Error('not recording');")], { env: { TRACING_EXPORTER: 'none' } });
    t.equal(api.code, 0, api.stderr);
    t.same(JSON.parse(api.stdout.trim()), { atStart: false, after: true }, `${flag}: read by the public API's first span, which records`);
    t.equal(api.stderr, '', `${flag}: no warning`);
  }
});

t.test('with TRACING_ENABLED=false the tracing half is never read', async (t) => {
  const r = await runNode(['--require', REGISTER.replace(/\.mjs$/, '.cjs'), '-e', `
    const held = (file) => require.cache[file] !== undefined;
    console.log(JSON.stringify({ start: held(${JSON.stringify(BUNDLE)}), tracing: held(${JSON.stringify(TRACING_BUNDLE)}), tracer: held(${dist('src/tracer.js')}) }));
  `], { env: { TRACING_ENABLED: 'false' } });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), { start: true, tracing: false, tracer: false }, 'the configuration only');
});

t.test('a dist module the app loaded from its file before the agent started stays the one instance', async (t) => {
  const r = await runNode(['--require', path.join(ROOT, 'dist', 'src', 'api', 'global.js'), '--require', REGISTER.replace(/\.mjs$/, '.cjs'), '-e', `
    console.log(require(${dist('src/api/global.js')}).globalTracer().startSpan('x').isRecording());
  `], { env: { TRACING_EXPORTER: 'none' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'true', 'the agent registered its tracer on the already loaded module');
});

t.test('an instrumentation loaded from its own file traces through the bundle\'s tracer', async (t) => {
  const r = await runNode(['--import', REGISTER, '-e', `
    const span = require('opentracing').globalTracer().startSpan('via-opentracing');
    span.finish();
    const ownFile = require.cache[${dist('instrumentations/opentracing/opentracing.js')}] !== undefined;
    console.log(JSON.stringify({ ownFile, traceIdLength: span.context().toTraceId().length }));
  `], { env: { TRACING_EXPORTER: 'console', TRACING_CONSOLE_FORMAT: 'json' } });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim()), { ownFile: true, traceIdLength: 32 }, 'opentracing\'s global tracer is the agent\'s');
  t.match(r.stderr, /"name":"via-opentracing"/, 'its span is exported by the agent\'s pipeline');
});

t.test('a stack through the bundle maps back to the TypeScript source (--enable-source-maps)', async (t) => {
  const source = readFileSync(BUNDLE, 'utf8');
  const lines = source.split('\n');
  const line = lines.findIndex((l) => l.startsWith('function loadConfig('));
  t.ok(line > 0, 'loadConfig is in the bundle');
  t.match(lines.slice(0, line).reverse().find((l) => l.startsWith('// dist/')) ?? '', '// dist/src/config/load.js', 'a comment names the dist file above it');
  const map = new SourceMap(JSON.parse(readFileSync(`${BUNDLE}.map`, 'utf8')));
  const entry = map.findEntry(line, 0) as { originalSource?: string; originalLine?: number };
  t.match(entry.originalSource, /src\/config\/load\.ts$/, 'the line maps to load.ts');
  const ts = readFileSync(path.join(ROOT, 'src', 'config', 'load.ts'), 'utf8').split('\n');
  t.match(ts[entry.originalLine!], /function loadConfig\(/, 'at the function\'s own line');
});

t.test('the published package holds the bundle and its map', async (t) => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  t.ok(files.includes('dist/src/agent/start-bundle.js'), 'start-bundle.js is published');
  t.ok(files.includes('dist/src/agent/start-bundle.js.map'), 'its map is published');
  t.ok(files.includes('dist/src/agent/tracing-bundle.js') && files.includes('dist/src/agent/tracing-bundle.js.map'), 'and the tracing half with its map');
  t.ok(files.includes('dist/src/agent/core-bundle.js') && files.includes('dist/src/agent/core-bundle.js.map'), 'and the tracer core with its map');
  t.ok(files.includes('register.cjs') && files.includes('register.mjs') && files.includes('register-compat.mjs'), 'with the register entries');
});

t.test('built-ins the first span needs load with it, not at start', async (t) => {
  // crypto (ids), perf_hooks (timestamps) and fs/promises; on every line, since http and https are patched when
  // the app loads them (before, Node 20 loaded https at start, and crypto with it through tls).
  const script = `
    const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
    const atStart = { crypto: loaded('crypto'), perf_hooks: loaded('perf_hooks'), 'fs/promises': loaded('fs/promises') };
    const span = require(${JSON.stringify(ROOT)}).globalTracer().startSpan('first');
    span.finish();
    console.log(JSON.stringify({ atStart, traceIdLength: span.context().toTraceId().length, timed: Math.abs(span.startTime - Date.now()) < 60_000 }));
  `;
  // A script file, not -e: Node 24's -e loads crypto itself.
  const dir = mkdtempSync(path.join(tmpdir(), 'start-builtins-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.cjs'), script);
  // Untracked: without the NODE_OPTIONS tap's process tracking adds to every child (its module loads crypto).
  const r = runNodeUntracked(['--require', REGISTER.replace(/\.mjs$/, '.cjs'), path.join(dir, 'app.cjs')], {
    cwd: dir,
    env: { TRACING_EXPORTER: 'none' },
  });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { atStart: Record<string, boolean>; traceIdLength: number; timed: boolean };
  t.equal(out.atStart.perf_hooks, false, 'perf_hooks is not loaded at start');
  t.equal(out.atStart['fs/promises'], false, 'fs/promises is not loaded at start');
  t.equal(out.atStart.crypto, false, 'crypto is not loaded at start');
  t.equal(out.traceIdLength, 32, 'the first span gets its ids');
  t.equal(out.timed, true, 'and a wall-clock start time');
});

t.test("the code cache's loader is built without its comments and still maps to its source, line by line", async (t) => {
  // Every process compiles dist/src/agent/code-cache.js without a cache (it reads the caches), so the build takes
  // its comments out; a stack line through it must still lead to the right line of code-cache.ts.
  const loader = path.join(ROOT, 'dist', 'src', 'agent', 'code-cache.js');
  const text = readFileSync(loader, 'utf8');
  const source = readFileSync(path.join(ROOT, 'src', 'agent', 'code-cache.ts'), 'utf8').split('\n');
  t.notMatch(text, /^\s*(\/\*\*|\/\/ (?!#))/m, 'no comment lines left');
  const map = new SourceMap(JSON.parse(readFileSync(`${loader}.map`, 'utf8')));
  const declared = [...text.split('\n').entries()].filter(([, l]) => /^(?:async )?function \w+\(/.test(l));
  t.ok(declared.length >= 15, `the loader's functions (${declared.length})`);
  const lines = text.split('\n');
  for (const [line, l] of declared) {
    const name = /^(?:async )?function (\w+)\(/.exec(l)![1]!;
    const entry = map.findEntry(line, 0) as { originalLine?: number };
    t.match(source[entry.originalLine ?? -1] ?? '', new RegExp(`function ${name}\\(`), `${name} maps to its line in code-cache.ts`);
    // Compiled with the file, not pre-parsed and compiled again at its first call (scripts/bundle-start.mjs,
    // compiledWithTheFile): a parenthesized function expression, opened at the end of the line before.
    t.ok(lines[line - 1]!.endsWith(` const ${name} = (`), `${name} is a parenthesized function expression`);
  }
  // Every exported function is there once the module has run (tsc's exports lines, moved after the code).
  const exported = require(loader) as Record<string, unknown>;
  for (const name of ['loadBundle', 'reportCodeCache', 'note', 'trustedDir', 'alignedOffset', 'exportPathStarted', 'packagePatched', 'exitFlushEnded']) {
    t.equal(typeof exported[name], 'function', `exports.${name}`);
  }
});
