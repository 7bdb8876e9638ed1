// An instrumentation that throws while patching, inside a wrapper, or inside a diagnostics_channel
// subscriber: the app behaves exactly as without the agent, and the agent logs one warning.
import t from 'tap';
import * as path from 'node:path';
import { ROOT } from '../helpers/run-node.js';
import { startApp } from '../helpers/fixture-app.js';

const APP = path.join(ROOT, 'test/reliability/fixtures/querystring-app.cjs');
const BROKEN = path.join(ROOT, 'test/reliability/fixtures/broken-instrumentation.cjs');

async function run(agent: boolean, mode: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const app = await startApp(APP, {
    agent,
    ready: false,
    env: agent ? { BROKEN: mode, TRACING_EXPORTER: 'none', NODE_OPTIONS: `--require ${BROKEN}` } : {},
  });
  const exit = await app.exited;
  return { stdout: app.stdout, stderr: app.stderr, code: exit.code };
}

t.test('a broken instrumentation never changes what the app sees', async (t) => {
  const reference = await run(false, '');
  t.match(reference.stdout, /end\n$/, 'the reference run completes');
  const cases: Array<[string, RegExp]> = [
    ['patch', /"deliberately-broken" failed on querystring.*broken while patching/],
    ['before', /wrapper of escape.*broken before the original/],
    ['after', /wrapper of stringify.*broken after the original/],
    ['subscriber', /"deliberately-broken" failed in its reliability.test subscriber.*broken subscriber/],
  ];
  for (const [mode, warning] of cases) {
    const broken = await run(true, mode);
    t.equal(broken.code, 0, `${mode}: the app exits normally`);
    t.equal(broken.stdout, reference.stdout, `${mode}: every result and every error identical to the run without the agent`);
    const warnings = broken.stderr.split('\n').filter((l) => l.includes('warn:'));
    t.equal(warnings.length, 1, `${mode}: exactly one warning (${warnings.join(' | ')})`);
    t.match(warnings[0] ?? '', warning, `${mode}: the warning names the instrumentation's failure`);
  }
});
