import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';
import type { ReceivedSpan } from '../../helpers/collector.js';

/** The source folder of a fixture (fixtures are plain .cjs/.mjs, not compiled). */
export function fixturePath(suite: string, file: string): string {
  return path.join(ROOT, 'test', 'integration', suite, 'fixtures', file);
}

/** A fixture app running in a child process, started with or without the agent. */
export interface RunningApp {
  /** The ports the app printed on its first line. */
  ports: Record<string, number | null>;
  /** Everything the app wrote to stderr so far (agent warnings land here). */
  stderr(): string;
  /** Asks the app to close its servers and waits for the process to end (the agent flushes on the way). */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  /** Run under `--import register.mjs`; default true. */
  agent?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Give up if the app printed no ports by then. */
  timeoutMs?: number;
}

/** Starts `node [--import register.mjs] <file>` and waits for its ports line. */
export function startApp(file: string, options: StartOptions = {}): Promise<RunningApp> {
  const args = options.agent === false ? [file] : ['--import', REGISTER, file];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...cleanEnv(), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} printed no ports; stderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', reject);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code}) before printing its ports; stderr: ${stderr}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      const ports = JSON.parse(stdout.slice(0, nl)) as Record<string, number | null>;
      resolve({ ports, stderr: () => stderr, stop: () => stopApp(child, ports.front!, exited) });
    });
  });
}

async function stopApp(child: ChildProcess, frontPort: number, exited: Promise<number | null>): Promise<number | null> {
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    await send(frontPort, { path: '/shutdown' }).catch(() => child.kill('SIGTERM'));
    return await exited;
  } finally {
    clearTimeout(killer);
  }
}

/** What the test's own (untraced) client got back. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
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

let traceCounter = 0;
/** A fresh valid W3C trace id for one scenario, so its spans can be picked out of the collector. */
export function newTraceId(): string {
  traceCounter++;
  return (process.pid.toString(16) + Date.now().toString(16) + traceCounter.toString(16).padStart(6, '0')).padStart(32, 'a').slice(-32);
}

/** The spans of one trace, in arrival order. */
export function spansOf(spans: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

/** OTLP span kinds as numbers. */
export const KIND = { server: 2, client: 3 } as const;
