import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';

/** The fixture every reliability test runs, with or without the agent. */
export const APP = path.join(ROOT, 'test/reliability/fixtures/app.cjs');

/** How a fixture process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal (or the start, when none was sent) to the exit. */
  ms: number;
}

/** A fixture app in a child process, on 127.0.0.1 and a free port. */
export class AppProcess {
  stdout = '';
  stderr = '';
  port = 0;
  private readonly exited: Promise<Exit>;
  private markedAt: number;

  private constructor(private readonly child: ChildProcess) {
    this.markedAt = Date.now();
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    // Never outlives the suite, whatever happens in a test.
    const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    killer.unref();
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, ms: Date.now() - this.markedAt });
    }));
  }

  /**
   * Starts `script` (default: the fixture app) under the agent when `agent` is true; resolves once it
   * printed "ready <port>" (or at once when `waitReady` is false).
   */
  static async start(opts: { agent: boolean; env?: Record<string, string>; script?: string; nodeArgs?: string[]; waitReady?: boolean }): Promise<AppProcess> {
    const args = [...(opts.nodeArgs ?? []), ...(opts.agent ? ['--import', REGISTER] : []), opts.script ?? APP];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...cleanEnv(), ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const app = new AppProcess(child);
    if (opts.waitReady === false) return app;
    await app.waitForOutput(/ready (\d+)/, 15_000);
    app.port = Number(/ready (\d+)/.exec(app.stdout)![1]);
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves when stdout matches; rejects after `timeoutMs` or when the process ends first. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const poll = (): void => {
        if (re.test(this.stdout)) return resolve();
        if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error(`process ended before ${re}: ${this.stderr}`));
        if (Date.now() > deadline) return reject(new Error(`no ${re} within ${timeoutMs} ms; stderr: ${this.stderr}`));
        setTimeout(poll, 20);
      };
      poll();
    });
  }

  /** Sends `signal`; the exit's `ms` counts from now. */
  kill(signal: NodeJS.Signals): void {
    this.markedAt = Date.now();
    this.child.kill(signal);
  }

  /** Resolves when the process ends (its `ms` from start or the last `kill`). */
  exit(): Promise<Exit> {
    return this.exited;
  }

  /** Ends the process for good (test clean-up). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
