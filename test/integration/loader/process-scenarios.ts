import * as path from 'node:path';
import type { Test } from 'tap';
import { REGISTER, runNode, type RunResult } from '../../helpers/run-node.js';
import { countLines, FIXTURES, runApp } from './scenarios.js';

const FAKE_CJS = path.join(FIXTURES, 'fake-instrumentation.cjs');
const FAKE_MJS = path.join(FIXTURES, 'fake-instrumentation.mjs');
const REGISTER_CJS = REGISTER.replace(/\.mjs$/, '.cjs');

function runFixture(node: string | undefined, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return runNode(args, { ...opts, node });
}

/** Whole-process behaviour: threads, child processes, exit, load order. */
export function processScenarios(t: Test, node?: string): void {
  t.test('a worker thread gets no second agent, does not crash, and the process exits', async (t) => {
    const r = await runFixture(node, ['--import', REGISTER, '--import', FAKE_MJS, path.join(FIXTURES, 'worker-app.mjs')], {
      env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug' },
      timeoutMs: 20_000,
    });
    t.equal(r.signal, null, 'exited on its own, not killed by the timeout');
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    const out = JSON.parse(r.stdout.trim()) as { main: string; worker?: { greet: string; esm: string; createServer: string; patchesHere: unknown } };
    t.equal(out.main, 'hello m (traced)', 'the main thread is traced');
    t.same(out.worker, { greet: 'hello w', esm: 'hi w', createServer: 'function', patchesHere: [] }, 'the worker loads its modules untouched');
    t.equal(countLines(r.stderr, /hooks installed/), 1, 'one agent in the process');
    t.equal(countLines(r.stderr, /\] (warn|error)/), 0, 'no warnings');
  });

  t.test('a short-lived script exits by itself with the agent loaded', async (t) => {
    // The default configuration (OTLP exporter, nothing listening) is what a user gets.
    const r = await runFixture(node, ['--import', REGISTER, path.join(FIXTURES, 'short-lived.mjs')], { timeoutMs: 20_000 });
    t.equal(r.signal, null, 'not killed by the timeout');
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    t.equal(r.stdout.trim(), 'done');
  });

  t.test('a child process inheriting NODE_OPTIONS runs under the agent too', async (t) => {
    const r = await runFixture(node, [path.join(FIXTURES, 'parent-app.cjs')], {
      env: { NODE_OPTIONS: `--import ${REGISTER} --import ${FAKE_MJS}`, TRACING_EXPORTER: 'none' },
      timeoutMs: 30_000,
    });
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout.trim()) as { greetNamed: string; openTracingTraceIdLength: number };
    t.equal(report.greetNamed, 'hello a (traced)', 'the child patched its modules');
    t.equal(report.openTracingTraceIdLength, 32, 'the child has its own tracer');
  });

  t.test('--require @acme/tracing-agent/register works for CommonJS-only setups', async (t) => {
    const r = await runApp('app.cjs', { node, preloads: ['--require', REGISTER_CJS, '--require', FAKE_CJS] });
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    t.equal(r.report?.greetNamed, 'hello a (traced)');
    t.equal(r.report?.shout, 'A!');
    t.equal(r.report?.esmNamed, 'hi a (traced)', 'import() from CommonJS is hooked as well');
    t.equal(r.report?.untouched.createServerNamed, false, 'http is patched');
  });

  t.test('an instrumented package loaded before the agent gets one warning', async (t) => {
    const r = await runFixture(node, [path.join(FIXTURES, 'late-agent.cjs')], { env: { TRACING_EXPORTER: 'none' } });
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    t.equal(r.stdout.trim(), 'still running');
    t.equal(countLines(r.stderr, /warn: opentracing was loaded before the agent started and may be only partly traced; start the agent first/), 1);
  });

  t.test('code run with node -e under --require can require built-ins', async (t) => {
    // On in-thread hooks, a require() without a parent module once resolved `module` as a file.
    const r = await runFixture(node, ['--require', REGISTER_CJS, '-e', "require('module'); require('node:http'); console.log('ok')"], {
      env: { TRACING_EXPORTER: 'none' },
    });
    t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });
    t.equal(r.stdout.trim(), 'ok');
  });
}
