// Keeps the server under test and the load generator on different cores when `taskset` exists,
// so the load generator's own work is not charged to the agent being measured.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Cores for the server and for everything else (load generator, sink, backend), or null each. */
export function choosePinning(env = process.env) {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  if (env.BENCH_PIN === '0' || cores < 2 || !hasTaskset()) return { server: null, load: null };
  const server = Number(env.BENCH_SERVER_CPU ?? cores - 1);
  const load = Number(env.BENCH_LOAD_CPU ?? 0);
  return { server, load };
}

/** The command line that runs `<node> args...` on `cpu` (or unpinned when cpu is null). */
export function pinned(cpu, nodeArgs, node = process.execPath) {
  if (cpu === null) return { command: node, args: nodeArgs };
  return { command: 'taskset', args: ['-c', String(cpu), node, ...nodeArgs] };
}

/** Moves this process (the sink and backend live here) onto the load generator's core. */
export function pinSelf(cpu) {
  if (cpu === null) return;
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
  } catch {
    // Unpinned is still a valid run; the report records the pinning that was asked for.
  }
}
