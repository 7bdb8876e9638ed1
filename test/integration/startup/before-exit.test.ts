// The agent's exit hook flushes at `beforeExit` only when spans are waiting. With nothing to export (the
// exporter `none`, or an exporter that got no span) it must leave the end of the process as it is without
// the agent: the app's own `beforeExit` listener runs once, and the agent sets no keep-alive timer (a
// process's first timer compiles Node's timer code: ~1.6 M instructions of an empty script's start-up).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, runNode } from '../../helpers/run-node.js';

// Preloaded before the agent: counts the timers the agent's exit hook sets.
const COUNTER = `
const original = globalThis.setTimeout;
globalThis.exitHookTimers = 0;
globalThis.setTimeout = function setTimeout(...args) {
  if (String(new Error().stack).includes('onBeforeExit')) globalThis.exitHookTimers++;
  return original.apply(this, args);
};
`;

const APP = `
let beforeExit = 0;
process.on('beforeExit', () => beforeExit++);
process.on('exit', () => console.log(JSON.stringify({ beforeExit, timers: globalThis.exitHookTimers ?? 0 })));
`;

t.test('with nothing to export, beforeExit runs once and the agent sets no timer', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'before-exit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'counter.cjs'), COUNTER);
  writeFileSync(path.join(dir, 'app.cjs'), APP);
  writeFileSync(path.join(dir, 'app.mjs'), APP);
  const without = await runNode([path.join(dir, 'app.cjs')], { cwd: dir });
  t.same(JSON.parse(without.stdout), { beforeExit: 1, timers: 0 }, 'without the agent');
  // The default exporter with the collector refused: it got no span, so there is nothing to flush either.
  const cases: Array<[string, Record<string, string>]> = [
    ['app.cjs', { TRACING_EXPORTER: 'none' }],
    ['app.mjs', { TRACING_EXPORTER: 'none' }],
    ['app.cjs', { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: 'http://127.0.0.1:9' }],
  ];
  for (const [name, env] of cases) {
    const r = await runNode(['--require', path.join(dir, 'counter.cjs'), '--import', REGISTER, path.join(dir, name)], { cwd: dir, env });
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout), { beforeExit: 1, timers: 0 }, `${name} ${JSON.stringify(env)}`);
  }
});
