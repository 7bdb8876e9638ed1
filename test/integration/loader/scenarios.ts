import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Test } from 'tap';
import { REGISTER, ROOT, runNode, type RunResult } from '../../helpers/run-node.js';

/** The loader's fixture folder (apps, preloads, and a node_modules of fake packages). */
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'loader');
const RECORD_ORIGINALS = path.join(FIXTURES, 'record-originals.cjs');
const FAKE_INSTRUMENTATION = path.join(FIXTURES, 'fake-instrumentation.mjs');
export const APPS = ['app.cjs', 'app.mjs'] as const;

/** What a fixture app prints (see test/fixtures/loader/report.cjs). */
export interface AppReport {
  greetNamed: string;
  greetDefault: string;
  shout: string;
  esmNamed: string;
  untouched: Record<'greetNamed' | 'greetDefault' | 'shout' | 'esmNamed' | 'createServerNamed' | 'createServerDefault' | 'moduleRequire', boolean>;
  createServerName: string;
  createServerLength: number;
  originalCreateServerLength: number;
  servers: number;
  patches: string[];
  fakeCjsLoads: number;
  sameInstance: boolean;
  hooksLoaded: boolean;
  openTracingTraceIdLength: number;
  nodeVersion: string;
}

export interface AppRun extends RunResult {
  report: AppReport | null;
}

/** Runs a fixture app under the agent and the fake instrumentation, with debug logging. */
const SHIPPED = 'http,https,undici,fetch,express,fastify,koa,hapi';

export async function runApp(app: string, opts: { node?: string; env?: NodeJS.ProcessEnv; preloads?: string[] } = {}): Promise<AppRun> {
  const preloads = opts.preloads ?? ['--require', RECORD_ORIGINALS, '--import', REGISTER, '--import', FAKE_INSTRUMENTATION];
  const r = await runNode([...preloads, path.join(FIXTURES, app)], {
    node: opts.node,
    timeoutMs: 20_000,
    // The shipped instrumentations are off: these scenarios watch the loader with a fake one only.
    env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug', TRACING_DISABLED_INSTRUMENTATIONS: SHIPPED, ...opts.env },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let report: AppReport | null = null;
  try {
    report = JSON.parse(line) as AppReport;
  } catch {
    report = null;
  }
  return { ...r, report };
}

/** How many stderr lines match. */
export function countLines(stderr: string, pattern: RegExp): number {
  return stderr.split('\n').filter((l) => pattern.test(l)).length;
}

const TARGET_COUNT = 4;

function assertUntouched(t: Test, report: AppReport, except: string[] = []): void {
  for (const [key, same] of Object.entries(report.untouched)) {
    if (except.includes(key)) continue;
    t.equal(same, true, `${key} is the function the module defined`);
  }
}

/** The loader's behaviour, for one `node` binary; each case runs as a CommonJS and an ES-module app. */
export function loaderScenarios(t: Test, node?: string): void {
  for (const app of APPS) {
    t.test(`${app}: each module is patched once and named imports see the patch`, async (t) => {
      const r = await runApp(app, { node });
      t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
      const report = r.report!;
      t.ok(report, 'the app printed its report');
      t.equal(report.greetNamed, 'hello a (traced)', 'named import / destructured require');
      t.equal(report.greetDefault, 'hello a (traced)', 'default import / require');
      t.equal(report.shout, 'A!', 'a file target inside the package');
      t.equal(report.esmNamed, 'hi a (traced)', 'an ES-module-only package');
      t.equal(report.untouched.createServerNamed, false, 'import { createServer } from node:http sees the wrapper');
      t.equal(report.untouched.createServerDefault, false, 'http.createServer is the wrapper');
      t.equal(report.servers, 1, 'the wrapper runs');
      t.equal(report.createServerName, 'createServer', 'the wrapper keeps the name');
      t.equal(report.createServerLength, report.originalCreateServerLength, 'the wrapper keeps the length');
      const expected = [`node:http@${report.nodeVersion}`, 'fake-cjs/lib/inner.js@1.2.3', 'fake-cjs@1.2.3', 'fake-esm@2.0.0'];
      t.same([...report.patches].sort(), expected.sort(), 'every target patched exactly once, with its version');
      t.equal(report.sameInstance, true, 'require, import and import() share one module instance');
      t.equal(report.fakeCjsLoads, 1, 'the package ran once');
      t.equal(report.openTracingTraceIdLength, 32, 'opentracing.globalTracer() is our tracer');
      t.equal(countLines(r.stderr, /\] warn/), 0, 'no warnings');
    });

    t.test(`${app}: an opted-out instrumentation leaves modules exactly as loaded`, async (t) => {
      const r = await runApp(app, { node, env: { TRACING_DISABLED_INSTRUMENTATIONS: `fake,${SHIPPED}` } });
      t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
      assertUntouched(t, r.report!, ['moduleRequire']);
      t.same(r.report!.patches, [], 'patch never ran');
      t.equal(r.report!.greetNamed, 'hello a');
    });

    t.test(`${app}: a version outside the range is skipped with a debug line`, async (t) => {
      const r = await runApp(app, { node, env: { FAKE_RANGE: '^5.0.0' } });
      t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
      const report = r.report!;
      t.equal(report.untouched.greetNamed && report.untouched.greetDefault && report.untouched.shout, true, 'fake-cjs@1.2.3 untouched');
      t.equal(report.esmNamed, 'hi a (traced)', 'targets in range are still patched');
      t.equal(countLines(r.stderr, /debug: skipping "fake" for fake-cjs@1\.2\.3: supports \^5\.0\.0/), 1, 'one debug line');
    });

    t.test(`${app}: a throwing instrumentation is disabled with one warning`, async (t) => {
      const r = await runApp(app, { node, env: { FAKE_MODE: 'throw', TRACING_LOG_LEVEL: 'warn' } });
      t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
      assertUntouched(t, r.report!, ['moduleRequire']);
      t.same(r.report!.patches, [`node:http@${r.report!.nodeVersion}`], 'disabled after its first failure');
      t.equal(countLines(r.stderr, /warn: instrumentation "fake" failed on http@.*boom from the fake instrumentation/), 1, 'one warning naming it');
      t.equal(countLines(r.stderr, /\] warn/), 1, 'and nothing else');
    });

    t.test(`${app}: TRACING_ENABLED=false loads no hooks and patches nothing`, async (t) => {
      const r = await runApp(app, { node, env: { TRACING_ENABLED: 'false' } });
      t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
      assertUntouched(t, r.report!);
      t.equal(r.report!.hooksLoaded, false, 'neither require- nor import-in-the-middle was loaded');
      t.equal(r.report!.openTracingTraceIdLength, 0, 'opentracing keeps its no-op tracer');
    });

    t.test(`${app}: the agent given twice (--import and NODE_OPTIONS) is one agent`, async (t) => {
      for (const again of [`--import ${pathToFileURL(REGISTER).href}?again`, `--require ${REGISTER.replace(/\.mjs$/, '.cjs')}`]) {
        const r = await runApp(app, { node, env: { NODE_OPTIONS: again } });
        t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
        t.equal(countLines(r.stderr, /debug: hooks installed/), 1, `${again}: hooks installed once`);
        t.equal(r.report!.patches.length, TARGET_COUNT, 'each target patched once');
        t.equal(r.report!.greetNamed, 'hello a (traced)');
      }
    });
  }
}
