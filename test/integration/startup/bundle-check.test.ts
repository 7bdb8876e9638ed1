// The check for a main script that is a bundle built without our plugin (src/agent/bundled.ts) reads the
// script on a later tick, from a timer. A main script too small to be a minified bundle that names no
// node_modules path cannot inline a package: for it the agent sets no timer (a process's first timer
// compiles Node's timer code). Any other main script is still checked (the warnings themselves:
// test/integration/bundling/).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, runNode } from '../../helpers/run-node.js';

// Preloaded before the agent: counts the timers set from the bundle check.
const COUNTER = `
const original = globalThis.setTimeout;
globalThis.bundleCheckTimers = 0;
globalThis.setTimeout = function setTimeout(...args) {
  if (String(new Error().stack).includes('checkForUnpluggedBundle')) globalThis.bundleCheckTimers++;
  return original.apply(this, args);
};
`;

t.test('the bundle check sets a timer only for a main script that could inline a package', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bundle-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'counter.cjs'), COUNTER);
  const report = 'console.log(String(globalThis.bundleCheckTimers));\n';
  const mains: Array<[string, string, string]> = [
    ['small.cjs', report, '0'],
    ['small.mjs', report, '0'],
    ['marker.cjs', `// node_modules/express/index.js\n${report}`, '1'],
    ['big.cjs', `${report}${'// padding\n'.repeat(1000)}`, '1'],
  ];
  for (const [name, source, expected] of mains) {
    writeFileSync(path.join(dir, name), source);
    const r = await runNode(['--require', path.join(dir, 'counter.cjs'), '--import', REGISTER, path.join(dir, name)], { cwd: dir, env: { TRACING_EXPORTER: 'none' } });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), expected, `${name}: ${expected} timer(s)`);
  }
});
