import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from './run-node.js';

/*
 * The one way tests run a fixture app: `node [flags] [--import register.mjs] <script>` in a child
 * process with a clean environment, waiting for the line that says where it listens, then talking to
 * it over loopback HTTP and ending it. Every integration and reliability suite starts its apps here.
 */

/** The source of a fixture (fixtures are plain .cjs/.mjs, read from the source tree, never compiled). */
export function fixturePath(suite: string, ...file: string[]): string {
  return path.join(ROOT, 'test', 'integration', suite, 'fixtures', ...file);
}

/** How a fixture process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the runner had to kill it (its lifetime ran out, or it ignored `stop()`). */
  killed: boolean;
  /** `Date.now()` when it ended. */
  endedAt: number;
  /** From the start, or from the last `kill()`, to the end. */
  ms: number;
}

export interface StartOptions {
  /** Run under `--import register.mjs`; default true. */
  agent?: boolean;
  /** Node flags before the agent's `--import` (other preloads, `--require`, ...). */
  nodeArgs?: readonly string[];
  /**
   * `--preserve-symlinks --preserve-symlinks-main`: for the folders that hold one module major each,
   * symlinks to the shared app and to the aliased package (`node_modules/express` → `express4`), so
   * the app loads the module by its real name, as a user's app does.
   */
  preserveSymlinks?: boolean;
  /** Arguments after the script. */
  args?: readonly string[];
  /** The node binary; default this process's. */
  node?: string;
  /** Default the project root. */
  cwd?: string;
  /** Added to the clean environment (`cleanEnv`). */
  env?: NodeJS.ProcessEnv;
  /**
   * What stdout says once the app listens. By default the first line: a JSON object of ports
   * (`{"front": 1234, ...}`), or `PORT <n>`, or `ready <n>`. A RegExp whose first group is the
   * front port, for apps that are not ours (`next start`). `false`: resolve at once.
   */
  ready?: RegExp | false;
  /** Fail the start when the app has not said it listens by then; default 30 s. */
  readyTimeoutMs?: number;
  /** The process is killed after this long at the latest (a hang fails, never stalls the suite); default 240 s. */
  lifetimeMs?: number;
  /** How `stop()` asks the app to end: `GET /shutdown` on its front port (default), or SIGTERM. */
  stopWith?: 'request' | 'SIGTERM';
}

/** What a request from the test process (which runs no agent) got back. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A fixture app running in a child process. */
export interface FixtureApp {
  /** The ports the app printed (`front` at least, unless started with `ready: false`). */
  readonly ports: Readonly<Record<string, number | null>>;
  /** The front port. */
  readonly port: number;
  /** `http://127.0.0.1:<front port>`. */
  readonly url: string;
  /** Everything the app wrote to stdout / stderr so far (agent warnings land on stderr). */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process ends. */
  readonly exited: Promise<Exit>;
  /** `GET <path>` on the front port. */
  get(urlPath: string, headers?: http.OutgoingHttpHeaders): Promise<Reply>;
  /** Resolves when stdout matches; rejects after `timeoutMs` or when the process ends first. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<void>;
  /** Sends `signal`; the exit's `ms` counts from now. */
  kill(signal: NodeJS.Signals): void;
  /** Asks the app to end (see `stopWith`) and resolves with its exit; killed after 10 s. */
  stop(): Promise<Exit>;
  /** Ends the process at once (SIGKILL) when it still runs: test clean-up. */
  destroy(): Promise<Exit>;
}

const FIRST_LINE_PORT = /^(?:PORT|ready) (\d+)$/;

/** The ports of a ready line in the default format, or null while there is no full first line yet. */
function portsOfFirstLine(stdout: string, script: string): Record<string, number | null> | null {
  const nl = stdout.indexOf('\n');
  if (nl === -1) return null;
  const line = stdout.slice(0, nl).trim();
  const m = FIRST_LINE_PORT.exec(line);
  if (m !== null) return { front: Number(m[1]) };
  try {
    return JSON.parse(line) as Record<string, number | null>;
  } catch {
    throw new Error(`${script} printed ${JSON.stringify(line)} where its ports were expected`);
  }
}

/** Starts a fixture app and resolves once it said where it listens (see `StartOptions.ready`). */
export function startApp(script: string, options: StartOptions = {}): Promise<FixtureApp> {
  const args = [
    ...(options.preserveSymlinks === true ? ['--preserve-symlinks', '--preserve-symlinks-main'] : []),
    ...(options.nodeArgs ?? []),
    ...(options.agent === false ? [] : ['--import', REGISTER]),
    script,
    ...(options.args ?? []),
  ];
  const child = spawn(options.node ?? process.execPath, args, { cwd: options.cwd ?? ROOT, env: { ...cleanEnv(), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let killed = false;
  let markedAt = Date.now();
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lifetime = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.lifetimeMs ?? 240_000);
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(lifetime);
    const endedAt = Date.now();
    resolve({ code, signal, killed, endedAt, ms: endedAt - markedAt });
  }));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let ports: Record<string, number | null> = {};

  const app: FixtureApp = {
    get ports() {
      return ports;
    },
    get port() {
      return ports.front ?? 0;
    },
    get url() {
      return `http://127.0.0.1:${ports.front}`;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    get: (urlPath, headers) => send(ports.front!, { path: urlPath, headers }),
    waitForOutput(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const poll = (): void => {
          if (re.test(stdout)) return resolve();
          if (!running()) return reject(new Error(`${script} ended before printing ${re}; stderr: ${stderr}`));
          if (Date.now() > deadline) return reject(new Error(`${script} printed no ${re} within ${timeoutMs} ms; stderr: ${stderr}`));
          setTimeout(poll, 20);
        };
        poll();
      });
    },
    kill(signal) {
      markedAt = Date.now();
      child.kill(signal);
    },
    async stop() {
      if (!running()) return exited;
      const killer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 10_000);
      try {
        if (options.stopWith === 'SIGTERM') child.kill('SIGTERM');
        else await send(ports.front!, { path: '/shutdown' }).catch(() => (running() ? child.kill('SIGTERM') : undefined));
        return await exited;
      } finally {
        clearTimeout(killer);
      }
    },
    destroy() {
      if (running()) child.kill('SIGKILL');
      return exited;
    },
  };

  if (options.ready === false) return Promise.resolve(app);
  const ready = options.ready;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not say it listens within ${options.readyTimeoutMs ?? 30_000} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, options.readyTimeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it said it listens; stderr: ${stderr}`));
    });
    const onData = (): void => {
      let found: Record<string, number | null> | null;
      try {
        if (ready === undefined) found = portsOfFirstLine(stdout, script);
        else {
          const m = ready.exec(stdout);
          found = m === null ? null : { front: Number(m[1]) };
        }
      } catch (err) {
        found = null;
        child.kill('SIGKILL');
        reject(err as Error);
      }
      if (found === null) return;
      child.stdout.off('data', onData);
      clearTimeout(timer);
      ports = found;
      resolve(app);
    };
    child.stdout.on('data', onData);
  });
}

/** One request from the test process (which runs no agent) to a fixture server. */
export function send(port: number, opts: http.RequestOptions & { body?: string; host?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A TRACING_CONFIG file in a fresh temporary folder; removed when the test ends. */
export function writeConfigFile(t: { teardown(fn: () => void): void }, content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-config-'));
  const file = path.join(dir, 'tracing.json');
  fs.writeFileSync(file, JSON.stringify(content));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}
