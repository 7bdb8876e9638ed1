// The parent's side of slice-load-child.mjs: one load generator process for a whole run, pinned to the
// load core, answering one command at a time.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pinned } from './pinning.mjs';

const child = fileURLToPath(new URL('./slice-load-child.mjs', import.meta.url));

/**
 * Starts the load generator on `cpu` (null: unpinned). Resolves with
 * `slice({ url, seconds, connections, key })` (one slice of closed-loop load; its summary),
 * `summary()` (latency over all slices, per key) and `close()`.
 */
export async function startSliceLoad({ cpu }) {
  const { command, args } = pinned(cpu, [child]);
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-2000); });
  const waiting = [];
  let exited = null;
  const exit = new Promise((resolve) => proc.once('exit', (code, signal) => {
    exited = `load generator exited (${code ?? signal}): ${stderr.trim()}`;
    for (const w of waiting.splice(0)) w.reject(new Error(exited));
    resolve();
  }));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (!w) return;
    try {
      const parsed = JSON.parse(line);
      if (parsed.error) w.reject(new Error(`load generator: ${parsed.error}`));
      else w.resolve(parsed);
    } catch (err) {
      w.reject(err);
    }
  });
  const ask = (command) => new Promise((resolve, reject) => {
    if (exited) {
      reject(new Error(exited));
      return;
    }
    waiting.push({ resolve, reject });
    proc.stdin.write(`${JSON.stringify(command)}\n`);
  });
  return {
    pid: proc.pid,
    slice: (opts) => ask(opts),
    summary: () => ask({ summary: true }),
    close: async () => {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
