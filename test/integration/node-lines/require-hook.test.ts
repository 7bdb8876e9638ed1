// The agent's require hook on every Node line: built-ins reached through process.getBuiltinModule (which
// no resolve hook sees) are patched, and a package required again, or by a path to its entry, is the one
// instance patched once.
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, runNode } from '../../helpers/run-node.js';
import { FIXTURES } from '../loader/scenarios.js';
import { nodeLines } from './binaries.js';
import { fixturePath } from '../../helpers/fixture-app.js';

interface Report {
  version: string;
  hasGetBuiltinModule: boolean;
  getBuiltinServers: number;
  greet: string;
  shout: string;
  sameObject: boolean;
  patches: string[];
}

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(`${line.label}: the require hook patches each target once, whichever way it is reached`, async (t) => {
    const r = await runNode(['--import', REGISTER, '--require', path.join(FIXTURES, 'fake-instrumentation.cjs'), fixturePath('node-lines', 'require-hook.cjs')], {
      node,
      timeoutMs: 20_000,
      env: { TRACING_EXPORTER: 'none', FAKE_ESM: 'off', TRACING_DISABLED_INSTRUMENTATIONS: 'http,https,undici,fetch,express,fastify,koa,hapi' },
    });
    t.equal(r.code, 0, 'the app exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Report;
    if (report.hasGetBuiltinModule) t.equal(report.getBuiltinServers, 1, "process.getBuiltinModule('node:http') returns the patched http");
    else t.comment(`${report.version} has no process.getBuiltinModule`);
    t.equal(report.greet, 'hello a (traced)', 'the package entry is patched');
    t.equal(report.shout, 'A!', 'the file target inside it is patched');
    t.ok(report.sameObject, 'require by name, again, and by the path of its entry: one instance');
    t.same([...report.patches].sort(), ['fake-cjs/lib/inner.js@1.2.3', 'fake-cjs@1.2.3', `node:http@${report.version}`].sort(), 'each target patched exactly once');
    t.equal(r.stderr, '', 'nothing on stderr');
  });
}
