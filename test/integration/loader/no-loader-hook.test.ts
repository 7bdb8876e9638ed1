// The loader with no ES-module loader hook (issue 20: on Node 20 `module.register` alone costs a thread,
// ~120 ms of CPU and ~10 MB at start). An app whose installed packages are all CommonJS gets no hook:
// built-ins are patched as they load, CommonJS packages as the ES-module loader loads them. The apps run
// from a temporary folder whose node_modules holds only what they use (from inside this repository
// they would see its devDependencies, @graphql-tools/executor among them, whose `import` loads ES-module
// code, which does need the hook).
// Runs under every Node line (scripts/test-node-lines.mjs runs this folder).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { postgres, requireServer } from '../../helpers/db-servers.js';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';
import { promisedMode } from '../node-lines/binaries.js';
import { FIXTURES } from './scenarios.js';

const COUNT_HOOKS = path.join(ROOT, 'test', 'integration', 'node-lines', 'fixtures', 'count-hook-registrations.cjs');
const RECORD_ORIGINALS = path.join(FIXTURES, 'record-originals.cjs');
const FAKE_INSTRUMENTATION = path.join(FIXTURES, 'fake-instrumentation.mjs');
const FAKE_INSTRUMENTATION_CJS = path.join(FIXTURES, 'fake-instrumentation.cjs');
const REGISTER_CJS = REGISTER.replace(/\.mjs$/, '.cjs');
// The two ways to start the agent: `--import` (the documented one) and `--require` of register.cjs, which on
// Node 20 spares a CommonJS app Node's ES-module loader (docs/loader.md, "--require in NODE_OPTIONS"). Both
// must trace an ES-module app alike: the agent's start is the same file, only who loads it differs.
const AGENT = { import: ['--import', REGISTER], require: ['--require', REGISTER_CJS] } as const;
const PRELOAD_FORMS = Object.keys(AGENT) as Array<keyof typeof AGENT>;
const SERVER = 2;
const CLIENT = 3;

/** A folder with the loader's fixture apps and the service, and node_modules holding only `packages`. */
function appFolder(t: Test, packages: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'no-loader-hook-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules', '@graphql-tools'), { recursive: true });
  for (const f of ['app.cjs', 'app.mjs', 'report.cjs']) cpSync(path.join(FIXTURES, f), path.join(dir, f));
  cpSync(path.join(FIXTURES, 'no-hook', 'service.mjs'), path.join(dir, 'service.mjs'));
  for (const name of packages) {
    const local = path.join(FIXTURES, 'node_modules', name);
    const source = name.startsWith('fake-') ? local : realpathSync(path.join(ROOT, 'node_modules', name));
    symlinkSync(source, path.join(dir, 'node_modules', name));
  }
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What count-hook-registrations.cjs saw, tap's own loader left out. */
  register: string[];
  registerHooks: number;
  iitmLoaded: boolean;
}

function run(dir: string, args: string[], env: NodeJS.ProcessEnv, onStdout?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', COUNT_HOOKS, ...args], { cwd: dir, env: { ...cleanEnv(), TRACING_LOG_LEVEL: 'debug', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onStdout?.(stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const lines = stdout.trim().split('\n');
      const seen = JSON.parse(lines[lines.length - 1] ?? '{}') as { register?: string[]; registerHooksCallers?: string[]; iitmLoaded?: boolean };
      // tap's coverage tracker registers hooks of its own in every child on some lines: count only ours.
      const notTap = (where: string) => !where.includes('/node_modules/@tapjs/');
      resolve({ code, stdout, stderr, register: (seen.register ?? []).filter(notTap), registerHooks: (seen.registerHooksCallers ?? []).filter(notTap).length, iitmLoaded: seen.iitmLoaded === true });
    });
  });
}

function hookMode(stderr: string): string {
  return /debug: hooks installed: require, import \((\w+):/.exec(stderr)?.[1] ?? '?';
}

function get(port: number, urlPath: string, traceId: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const headers = { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
    http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    }).on('error', reject);
  });
}

/**
 * With no import hook and no installed target whose ES-module files a deep import could reach, the agent
 * registers no hook at all, not even the resolve-only one (built-ins are patched as they load).
 */
function assertNoImportHook(t: Test, r: Run): void {
  t.equal(hookMode(r.stderr), 'lazy', 'no loader hook');
  t.same(r.register, [], 'module.register is never called (no loader thread)');
  t.equal(r.registerHooks, 0, 'module.registerHooks is never called');
  t.equal(r.iitmLoaded, false, 'import-in-the-middle is never loaded');
}

/** The hook the agent installs once a target loads as ES-module code, on this Node. */
const HOOK_MODE = promisedMode(process.versions.node);
/** Where an in-thread resolve hook (module.registerHooks) can notice a deep import of ES-module files. */
const LAZY_LINE = typeof (require('node:module') as { registerHooks?: unknown }).registerHooks === 'function';

for (const form of PRELOAD_FORMS) t.test(`an ES-module express + pg service, agent by ${AGENT[form][0]}: server, query and client spans in each request's trace, no loader hook`, async (t) => {
  await requireServer('PostgreSQL', postgres.port);
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const dir = appFolder(t, ['express', 'pg']);
  let started: (port: number) => void;
  const listening = new Promise<number>((resolve) => (started = resolve));
  const exited = run(dir, [...AGENT[form], 'service.mjs'], {
    TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '20',
    PG_PORT: String(postgres.port), PG_USER: postgres.user, PG_PASSWORD: postgres.password,
  }, (out) => {
    const m = /\{"front":(\d+)\}/.exec(out);
    if (m) started(Number(m[1]));
  });
  const port = await Promise.race([listening, exited.then((r) => Promise.reject(new Error(`the service ended: ${r.stderr}`)))]);
  const traceIds = [0, 1, 2].map(() => randomBytes(16).toString('hex'));
  const replies = await Promise.all(traceIds.map((id, i) => get(port, `/users/u${i}`, id)));
  await get(port, '/shutdown', randomBytes(16).toString('hex'));
  const r = await exited;
  t.equal(r.code, 0, 'the service ends normally', { stderr: r.stderr });
  assertNoImportHook(t, r);
  t.notMatch(r.stderr, /\] warn/, 'no warning');
  const spans = await collector.waitForSpans(3 * 4);
  traceIds.forEach((traceId, i) => {
    const reply = replies[i]!;
    t.equal(reply.id, `u${i}`, `request ${i} answered`);
    const trace = spans.filter((s: ReceivedSpan) => s.traceId === traceId);
    const server = trace.find((s) => s.kind === SERVER && s.name === 'GET /users/:id');
    t.ok(server, `request ${i}: express named its server span after the route`);
    const query = trace.find((s) => s.kind === CLIENT && s.attributes.component === 'pg');
    t.equal(query?.parentSpanId, server?.spanId, `request ${i}: the pg query span is a child of its server span`);
    const call = trace.find((s) => s.kind === CLIENT && s.attributes.component !== 'pg');
    t.equal(call?.parentSpanId, server?.spanId, `request ${i}: the http.request span (after the query, a later tick) is a child of its server span`);
    const leaf = trace.find((s) => s.kind === SERVER && s.name === 'GET /leaf');
    t.equal(leaf?.parentSpanId, call?.spanId, `request ${i}: the downstream server span is a child of the client span`);
    t.match((reply.downstream as { traceparent?: string }).traceparent, new RegExp(`^00-${traceId}-${call?.spanId}-01$`), `request ${i}: the downstream call carried its own trace`);
  });
});

// The agent and the test's instrumentation by --import, or both by --require (no --import at all: for an
// ES-module app Node's ES-module loader then runs only for the app itself).
const PRELOADS = {
  import: ['--require', RECORD_ORIGINALS, '--import', REGISTER, '--import', FAKE_INSTRUMENTATION],
  require: ['--require', RECORD_ORIGINALS, '--require', REGISTER_CJS, '--require', FAKE_INSTRUMENTATION_CJS],
} as const;

for (const [app, form] of ['app.mjs', 'app.cjs'].flatMap((a) => PRELOAD_FORMS.map((f) => [a, f] as const))) {
  t.test(`${app}, agent by ${AGENT[form][0]}: CommonJS targets only — named, default and import() see the patch, with no loader hook`, async (t) => {
    const dir = appFolder(t, ['fake-cjs', 'fake-esm', 'opentracing']);
    const r = await run(dir, [...PRELOADS[form], app], { TRACING_EXPORTER: 'none', FAKE_ESM: 'off' });
    t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout.trim().split('\n').at(-2) ?? '{}') as Record<string, any>;
    t.equal(report.greetNamed, 'hello a (traced)', 'named import / destructured require');
    t.equal(report.greetDefault, 'hello a (traced)', 'default import / require');
    t.equal(report.shout, 'A!', 'a file target inside the package');
    t.equal(report.esmNamed, 'hi a', 'the ES-module package nobody targets is untouched');
    t.equal(report.untouched.createServerNamed, false, 'import { createServer } from node:http sees the wrapper');
    t.equal(report.servers, 1, 'the wrapper runs');
    t.same([...report.patches].sort(), [`node:http@${process.versions.node}`, 'fake-cjs/lib/inner.js@1.2.3', 'fake-cjs@1.2.3'].sort(), 'every target patched exactly once');
    t.equal(report.sameInstance, true, 'require, import and import() share one module instance');
    t.equal(report.openTracingTraceIdLength, 32, 'opentracing (a shipped instrumentation, CommonJS) is patched');
    assertNoImportHook(t, r);
    t.notMatch(r.stderr, /\] warn/, 'no warning');
  });

  t.test(`${app}, agent by ${AGENT[form][0]}: registerInstrumentation() of an ES-module-only target starts the import hook for the imports that follow`, async (t) => {
    const dir = appFolder(t, ['fake-cjs', 'fake-esm', 'opentracing']);
    const r = await run(dir, [...PRELOADS[form], app], { TRACING_EXPORTER: 'none' });
    t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout.trim().split('\n').at(-2) ?? '{}') as Record<string, any>;
    t.equal(report.esmNamed, 'hi a (traced)', 'the ES-module-only package is patched');
    t.equal(report.greetNamed, 'hello a (traced)', 'CommonJS named imports still see the patch');
    t.equal(report.untouched.createServerNamed, false, 'and built-ins');
    t.equal(report.fakeCjsLoads, 1, 'the package ran once');
    t.match(r.stderr, /debug: fake-esm loads as an ES module: the import hook is installed now/, 'the debug line says why');
    t.notMatch(r.stderr, /\] warn/, 'no warning');
    if (HOOK_MODE === 'sync') {
      t.same(r.register, [], 'module.register is never called');
      t.ok(r.registerHooks > 0, 'the in-thread hook is registered');
    } else {
      t.same(r.register.map((url) => url.replace(/^.*\/node_modules\//, '')), ['import-in-the-middle/hook.mjs'], 'module.register is called once (the loader thread)');
    }
  });
}

// A package whose `import` loads CommonJS code and whose targeted file has an `.mjs` twin (graphql 16's
// shape), targeted by registerInstrumentation(): where a deep import of the twin can be watched the hook
// starts at once (as before); on Node 20 it does not (the rule of the start applies), and the CommonJS
// file is patched either way.
t.test('registerInstrumentation() of a file with an .mjs twin in a CommonJS package: import hook at once only where deep imports can be watched', async (t) => {
  const dir = appFolder(t, []);
  const pkg = path.join(dir, 'node_modules', 'fake-twin');
  mkdirSync(path.join(pkg, 'lib'), { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fake-twin', version: '1.0.0', main: 'index.js' }));
  writeFileSync(path.join(pkg, 'index.js'), "module.exports = require('./lib/run.js');\n");
  writeFileSync(path.join(pkg, 'lib', 'run.js'), "exports.run = () => 'cjs';\n");
  writeFileSync(path.join(pkg, 'lib', 'run.mjs'), "export const run = () => 'esm';\n");
  writeFileSync(path.join(dir, 'twin-instrumentation.cjs'), `
    const { registerInstrumentation } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'index.js'))});
    module.exports = registerInstrumentation({
      name: 'twin',
      modules: [{ name: 'fake-twin', versions: '^1', file: 'lib/run.js' }],
      patch(exports, { wrap }) {
        wrap(exports, 'run', (original) => function runWithTrace() { return original.call(this) + ' (traced)'; });
      },
    });`);
  writeFileSync(path.join(dir, 'twin-instrumentation.mjs'), "import ready from './twin-instrumentation.cjs';\nawait ready;\n");
  writeFileSync(path.join(dir, 'twin-app.mjs'), "const { run } = await import('fake-twin');\nconsole.log(JSON.stringify({ run: run() }));\n");
  const r = await run(dir, ['--import', REGISTER, '--import', './twin-instrumentation.mjs', 'twin-app.mjs'], { TRACING_EXPORTER: 'none' });
  t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
  t.same(JSON.parse(r.stdout.trim().split('\n')[0] ?? '{}'), { run: 'cjs (traced)' }, "import 'fake-twin' loads the CommonJS file, patched");
  t.notMatch(r.stderr, /\] warn/, 'no warning');
  if (LAZY_LINE) {
    t.match(r.stderr, /debug: fake-twin\/lib\/run loads as an ES module: the import hook is installed now/, 'the registration starts the hook, for a deep import of lib/run.mjs');
  } else {
    t.notMatch(r.stderr, /loads as an ES module/, 'the registration starts no hook');
    assertNoImportHook(t, r);
  }
});

for (const form of PRELOAD_FORMS) t.test(`an installed package whose import loads ES-module code (@graphql-tools/executor) gets the hook at start, agent by ${AGENT[form][0]}`, async (t) => {
  const dir = appFolder(t, ['@graphql-tools/executor']);
  const r = await run(dir, [...AGENT[form], 'report.cjs'], { TRACING_EXPORTER: 'none' });
  t.equal(r.code, 0, 'the script exits 0', { stderr: r.stderr });
  t.match(r.stderr, /debug: @graphql-tools\/executor\/esm\/execution\/execute loads as an ES module: the import hook is needed/, 'the debug line names the target');
  t.equal(hookMode(r.stderr), HOOK_MODE, `the ${HOOK_MODE} hook`);
  if (HOOK_MODE === 'async') t.equal(r.register.length, 1, 'module.register is called once');
  else t.same(r.register, [], 'module.register is never called');
});

// graphql 16 ships `.mjs` twins of its files but has no `exports` and `main: "index"`: `import 'graphql'`
// loads its CommonJS build, patched without a hook. Where an in-thread resolve hook exists
// (module.registerHooks), a deep import of its ES-module build (`graphql/index.mjs`) starts the import
// hook then, for the files it imports. Node 20 has none: there the deep import is traced only with
// TRACING_IMPORT_HOOK=always (the hook at start), and an app with graphql installed gets no loader thread
// by default (issue 20: the thread alone is ~10 MB and ~80 ms of CPU).
const GRAPHQL_APP = `
  const graphql = await import(process.env.GRAPHQL_ENTRY);
  const schema = graphql.buildSchema('type Query { hello: String }');
  const result = await graphql.graphql({ schema, source: 'query Hi { hello }', rootValue: { hello: () => 'world' } });
  console.log(JSON.stringify(result.data));
`;

async function runGraphqlApp(t: Test, packages: string[], entry: string, env: NodeJS.ProcessEnv = {}, form: keyof typeof AGENT = 'import'): Promise<{ r: Run; traced: boolean }> {
  const dir = appFolder(t, packages);
  writeFileSync(path.join(dir, 'graphql-app.mjs'), GRAPHQL_APP);
  const r = await run(dir, [...AGENT[form], 'graphql-app.mjs'], { TRACING_EXPORTER: 'console', TRACING_CONSOLE_FORMAT: 'json', GRAPHQL_ENTRY: entry, ...env });
  t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
  t.equal(r.stdout.trim().split('\n')[0], '{"hello":"world"}', 'graphql answers');
  t.notMatch(r.stderr, /\] warn/, 'no warning');
  const spans = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { name: string; attributes: Record<string, unknown> });
  return { r, traced: spans.some((s) => s.attributes['component'] === 'graphql' && s.attributes['graphql.operation.name'] === 'Hi') };
}

for (const form of PRELOAD_FORMS) t.test(`an ES-module app with graphql 16 installed, importing graphql, agent by ${AGENT[form][0]}: traced, with no loader hook at start on any line`, async (t) => {
  const { r, traced } = await runGraphqlApp(t, ['graphql'], 'graphql', {}, form);
  t.ok(traced, 'the operation is traced');
  t.equal(hookMode(r.stderr), 'lazy', 'no import hook at start: import \'graphql\' loads CommonJS code');
  t.same(r.register, [], 'module.register is never called (no loader thread on Node 20)');
  t.equal(r.iitmLoaded, false, 'import-in-the-middle is never loaded');
  if (LAZY_LINE) t.equal(r.registerHooks, 1, 'one resolve-only hook watches for a deep import of its ES-module files');
});

t.test('an ES-module app importing graphql/index.mjs: the deep import starts the hook where an in-thread hook can see it; on Node 20 it needs TRACING_IMPORT_HOOK=always', async (t) => {
  const { r, traced } = await runGraphqlApp(t, ['graphql'], 'graphql/index.mjs');
  if (LAZY_LINE) {
    t.ok(traced, 'the operation is traced');
    t.equal(hookMode(r.stderr), 'lazy', 'no import hook at start');
    t.match(r.stderr, /debug: file:\/\/\S*\/graphql\/index\.mjs is an ES module of an instrumented package: the import hook is installed now/, 'the deep import starts the hook');
    t.equal(r.iitmLoaded, true, 'import-in-the-middle is loaded then');
  } else {
    t.notOk(traced, `${process.version} has no in-thread resolve hook and starts no loader thread for graphql by default: the deep import loads untraced (documented)`);
    assertNoImportHook(t, r);
  }
});

for (const [entry, form] of ['graphql/index.mjs', 'graphql'].flatMap((e) => PRELOAD_FORMS.map((f) => [e, f] as const))) {
  t.test(`TRACING_IMPORT_HOOK=always, an ES-module app importing ${entry}, agent by ${AGENT[form][0]}: the import hook at start, traced`, async (t) => {
    const { r, traced } = await runGraphqlApp(t, ['graphql'], entry, { TRACING_IMPORT_HOOK: 'always' }, form);
    t.ok(traced, 'the operation is traced');
    t.match(r.stderr, /debug: TRACING_IMPORT_HOOK=always: the import hook is installed at start/, 'the debug line says why');
    t.equal(hookMode(r.stderr), HOOK_MODE, `the ${HOOK_MODE} hook at start`);
    t.equal(r.iitmLoaded, true, 'import-in-the-middle is loaded');
    if (HOOK_MODE === 'async') t.equal(r.register.length, 1, 'module.register is called once (the loader thread)');
    else t.same(r.register, [], 'module.register is never called');
  });
}

t.test('TRACING_IMPORT_HOOK=never: no hook even with an ES-module target installed (@graphql-tools/executor); CommonJS graphql still traced', async (t) => {
  const { r, traced } = await runGraphqlApp(t, ['graphql', '@graphql-tools/executor'], 'graphql', { TRACING_IMPORT_HOOK: 'never' });
  t.ok(traced, 'import \'graphql\' (CommonJS code) is traced');
  t.match(r.stderr, /debug: TRACING_IMPORT_HOOK=never: no import hook/, 'the debug line says so');
  assertNoImportHook(t, r);
});
