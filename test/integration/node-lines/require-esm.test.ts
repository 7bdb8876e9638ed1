// require() of an ES-module-only package (unflagged from Node 20.19 and 22.12, so on every line users
// run today) hands the require hook the module's read-only namespace. Patching it used to throw,
// which disabled the instrumentation for the whole process: the package's imports and every other
// module of that instrumentation went untraced, with a warning. Now the namespace is left alone.
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, runNode } from '../../helpers/run-node.js';
import { FIXTURES } from '../loader/scenarios.js';
import { nodeLines, promisedMode } from './binaries.js';
import { fixturePath } from '../../helpers/fixture-app.js';

interface Report {
  version: string;
  requireEsm: boolean;
  requiredGreet?: string;
  cjsGreet: string;
  importedGreet: string;
}

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(`${line.label}: require() of an ES module keeps the instrumentation working`, async (t) => {
    const r = await runNode(['--import', REGISTER, '--import', path.join(FIXTURES, 'fake-instrumentation.mjs'), fixturePath('node-lines', 'require-esm.cjs')], {
      node,
      timeoutMs: 20_000,
      env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug', TRACING_DISABLED_INSTRUMENTATIONS: 'http,https,undici,fetch,express,fastify,koa,hapi' },
    });
    t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Report;
    if (!report.requireEsm) {
      t.test('require(esm)', { skip: `${report.version} has no unflagged require(esm)` }, async () => {});
      return;
    }
    t.equal(report.requiredGreet, 'hi a', 'require() gets the module, untouched');
    t.notMatch(r.stderr, /\] warn:/, 'no warning: the instrumentation was not disabled');
    t.match(r.stderr, /debug: not patching fake-esm through require\(\)/, 'one debug line says why the required namespace is not patched');
    t.equal(report.cjsGreet, 'hello a (traced)', 'the instrumentation\'s other modules are still patched');
    // The fixture can import the package only by its file URL; the loader-thread hook (Node 20) matches
    // packages by bare specifier (docs/loader.md), so there the import is the loader scenarios' to check.
    const inThread = promisedMode(report.version) === 'sync';
    t.test('and the ES module itself, where it is imported', { skip: inThread ? false : `${report.version} hooks imports on the loader thread, which matches bare specifiers only` }, async (t) => {
      t.equal(report.importedGreet, 'hi a (traced)', 'the imported function is the wrapper');
    });
  });
}
