import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';

/** A fixture of this folder (plain .cjs/.mjs, read from the source tree). */
export function fixture(file: string): string {
  return path.join(ROOT, 'test', 'integration', 'node-lines', 'fixtures', file);
}

/** A fixture app running under the agent on one Node binary. */
export interface RunningApp {
  /** The port the app's server listens on. */
  front: number;
  /** Everything the app wrote to stderr so far. */
  stderr(): string;
  /** Resolves when the process ends on its own; `killed` when the test had to end it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; endedAt: number }>;
}

/**
 * Starts `<node> --import register.mjs <file>` and waits for its `{"front": port}` line. The process
 * is killed after `lifetimeMs` at the latest, so a hang fails the test instead of stalling the suite.
 */
export function startApp(node: string, file: string, env: NodeJS.ProcessEnv, lifetimeMs = 20_000): Promise<RunningApp> {
  const child = spawn(node, ['--import', REGISTER, file], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, lifetimeMs);
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; endedAt: number }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, killed, endedAt: Date.now() });
    });
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    void exited.then(({ code }) => reject(new Error(`${file} exited (${code}) before printing its port; stderr: ${stderr}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl === -1) return;
      const { front } = JSON.parse(stdout.slice(0, nl)) as { front: number };
      resolve({ front, stderr: () => stderr, exited });
    });
  });
}
