import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
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

/** How the app is started. */
export interface StartOptions {
  /** Node options before the app file; the agent alone (`--import register.mjs`) unless given. */
  preload?: readonly string[];
  /** The process is killed after this long at the latest, so a hang fails the test instead of stalling the suite. */
  lifetimeMs?: number;
}

/** Starts `<node> --import register.mjs <file>` (or the given preloads) and waits for its `{"front": port}` line. */
export function startApp(node: string, file: string, env: NodeJS.ProcessEnv, opts: StartOptions = {}): Promise<RunningApp> {
  const args = [...(opts.preload ?? ['--import', REGISTER]), file];
  const lifetimeMs = opts.lifetimeMs ?? 20_000;
  const child = spawn(node, args, { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** A server of the test process (no agent) the fixture apps call; records the traceparent it saw per path. */
export interface Downstream {
  port: number;
  traceparents: Map<string, string[]>;
  close(): Promise<void>;
}

export function startDownstream(): Promise<Downstream> {
  const traceparents = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    const seen = traceparents.get(req.url ?? '') ?? [];
    seen.push(String(req.headers.traceparent ?? ''));
    traceparents.set(req.url ?? '', seen);
    res.end('ok');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as AddressInfo).port,
      traceparents,
      close: () => new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
    }));
  });
}

/** An exporter endpoint that is down, held until `close()`. */
export interface DownEndpoint {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback endpoint that drops every connection before answering: to an exporter, a backend that is
 * down. The port stays bound until `close()`; a port that was merely released could be taken by
 * another test's server meanwhile, which would then answer (an HTTP 404 instead of a dead endpoint).
 */
export function downEndpoint(): Promise<DownEndpoint> {
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}
