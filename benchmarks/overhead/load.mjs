// Drives autocannon as a child process on the load generator's core.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinned } from './pinning.mjs';

const child = fileURLToPath(new URL('./autocannon-child.mjs', import.meta.url));

/**
 * Loads `url` for `warmup` seconds (untimed; 0 for none), calls `beforeTimed()` (where the caller
 * reads the server's counters), then loads it for `duration` seconds; resolves with the timed run's
 * summary.
 */
export function runLoad({ url, duration, warmup = 0, connections, cpu, beforeTimed = () => {} }) {
  const { command, args } = pinned(cpu, [child, JSON.stringify({ url, connections, duration, warmup })]);
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let warm = warmup <= 0;
    if (warm) beforeTimed();
    const timer = setTimeout(() => proc.kill('SIGKILL'), (warmup + duration + 30) * 1000);
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (!warm && out.includes('warm\n')) {
        warm = true;
        out = out.slice(out.indexOf('warm\n') + 5);
        beforeTimed();
        proc.stdin.end('go\n');
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-2000); });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 || !warm) {
        reject(new Error(`autocannon failed (${code ?? signal}): ${err.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim()));
      } catch {
        reject(new Error(`autocannon printed no summary: ${out.slice(0, 200)} ${err.trim()}`));
      }
    });
  });
}
