// Which ES-module hook the agent installs on each Node line, and that Node 26 never sees the
// deprecated module.register (DEP0205): the app runs with --throw-deprecation, so a deprecation
// raised by the agent would fail the hook installation, and a preload counts the calls themselves.
// The app runs from this repository, whose node_modules holds @graphql-tools/executor (its `import` loads
// ES-module code), so a hook is needed; apps that need none get none (test/integration/loader/no-loader-hook.test.ts).
import t from 'tap';
import { REGISTER, runNode } from '../../helpers/run-node.js';
import { nodeLines, promisedMode } from './binaries.js';
import { fixturePath } from '../../helpers/fixture-app.js';

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(`${line.label}: the import hook and the module.register calls`, async (t) => {
    const r = await runNode(['--throw-deprecation', '--require', fixturePath('node-lines', 'count-hook-registrations.cjs'), '--import', REGISTER, fixturePath('node-lines', 'imports-http.mjs')], {
      node,
      timeoutMs: 20_000,
      env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug' },
    });
    t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
    const lines = r.stdout.trim().split('\n');
    const report = JSON.parse(lines[0] ?? '{}') as { version?: string; createServer?: string };
    const seen = JSON.parse(lines[lines.length - 1] ?? '{}') as { register?: string[]; registerHooks?: number };
    t.equal(report.createServer, 'function', 'the app ran');
    const version = String(report.version);
    const mode = promisedMode(version);
    const path = mode === 'sync' ? 'module.registerHooks, in-thread' : 'module.register, loader thread';
    t.match(r.stderr, `debug: hooks installed: require, import (${mode}: ${path})`, `${version}: the debug line names the hook path (${path})`);
    t.notMatch(r.stderr, /DEP0205|DeprecationWarning/, 'no deprecation warning');
    t.notMatch(r.stderr, /\] warn:/, 'the hooks installed without a warning');
    // tap's coverage tracker is injected into every child process of a test and registers its own
    // loader on some lines: only the hooks registered by anything else are the agent's.
    const ours = (seen.register ?? []).filter((url) => !url.includes('/node_modules/@tapjs/'));
    if (mode === 'sync') {
      t.same(ours, [], 'module.register is never called');
      t.ok(Number(seen.registerHooks) > 0, 'module.registerHooks is', { seen });
    } else {
      t.same(ours.map((url) => url.replace(/^.*\/node_modules\//, '')), ['import-in-the-middle/hook.mjs'], 'module.register is called once, for the import hook');
    }
    if (line.major >= 26) t.equal(mode, 'sync', 'Node 26 and later always get the in-thread hook');
  });
}
