import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The project root (where register.mjs lives), from dist/test/helpers. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const REGISTER = path.join(ROOT, 'register.mjs');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` in a child process and collects its output; kills it after `timeoutMs`. */
export function runNode(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; node?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.node ?? process.execPath, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...cleanEnv(), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * `runNode`, synchronously, with nothing of tap in the child: tap's process tracking adds NODE_OPTIONS
 * to every child a test spawns (even with `env` cleaned), which turns source maps on (so the agent loads
 * through require(), without its code cache) and loads modules the app never would (crypto). Through
 * `sh`, which unsets it, the child starts as a user's process does.
 */
export function runNodeUntracked(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync('sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...cleanEnv(), ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The parent's environment without anything that would change how the child traces, plus one
 * setting for this shared, loaded test machine: children that end by themselves flush their last
 * spans to an in-test collector at exit, and that collector runs in this (busy) test process, so it
 * may take longer than the default exit deadline (500 ms) to answer. Tests of the deadline itself set
 * `TRACING_EXIT_TIMEOUT_MS` explicitly (test/integration/export/short-process.test.ts,
 * test/reliability/shutdown.test.ts).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TRACING_') || k.startsWith('OTEL_') || k === 'NODE_OPTIONS' || k.startsWith('TAP') || k === 'NODE_V8_COVERAGE') continue;
    env[k] = v;
  }
  env.TRACING_EXIT_TIMEOUT_MS = '5000';
  return env;
}
