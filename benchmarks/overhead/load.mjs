// Drives autocannon as a child process on the load generator's core.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinned } from './pinning.mjs';

const child = fileURLToPath(new URL('./autocannon-child.mjs', import.meta.url));

/** Loads `url` for `duration` seconds with `connections` connections; resolves with the summary. */
export function runLoad({ url, duration, connections, cpu }) {
  const { command, args } = pinned(cpu, [child, JSON.stringify({ url, connections, duration })]);
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: (duration + 30) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`autocannon failed: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}
