// The agent starts no libuv thread pool of its own (issue 20, memory): an idle CommonJS app under
// `--require` has the threads it has without the agent. The pool is four threads started by the first
// asynchronous fs, dns or crypto call; the bundle check reads the main script on a later tick, and did
// so with fs's callbacks. (Under `--import`, Node 20 itself reads ES modules through the pool.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNodeUntracked } from '../../helpers/run-node.js';

const APP = `
  // Past the agent's later-tick work (the bundle check runs on a 0 ms timer).
  setTimeout(() => {
    const { readdirSync, readFileSync } = require('node:fs');
    const names = readdirSync('/proc/self/task').map((tid) => readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim());
    console.log(JSON.stringify(names));
  }, 200);
`;

function threadNames(dir: string, preload: string[]): string[] {
  // Untracked: without the NODE_OPTIONS tap's process tracking adds to every child.
  const r = runNodeUntracked([...preload, path.join(dir, 'app.cjs')], { cwd: dir });
  if (r.code !== 0) throw new Error(`the app failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as string[];
}

t.test('an idle CommonJS app under the agent starts no libuv thread pool', { skip: process.platform === 'linux' ? false : 'reads thread names from /proc (Linux)' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'thread-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.cjs'), APP);
  const without = threadNames(dir, []);
  t.notOk(without.includes('libuv-worker'), 'without the agent the app has no pool (the comparison can fail)', { threads: without });
  const withAgent = threadNames(dir, ['--require', path.join(ROOT, 'register.cjs')]);
  t.notOk(withAgent.includes('libuv-worker'), 'under the agent neither', { threads: withAgent });
  t.equal(withAgent.length, without.length, 'the same number of threads');
});
