import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from './run-node.js';

export interface Reply {
  status: number;
  body: string;
}

export interface RunningApp {
  port: number;
  get(urlPath: string): Promise<Reply>;
  /** Asks the app to close (`GET /shutdown`), and resolves with its stderr once it has exited. */
  stop(): Promise<string>;
}

/**
 * Starts `<fixtures>/<folder>/<file>` under `--import register.mjs` (or without the agent when
 * `agent` is false) and resolves once it printed `PORT <n>`. Folders for a module's major hold
 * symlinks to the shared app and to the aliased package (`node_modules/express` →
 * `node_modules/express4`); the symlink flags keep those paths, so the app loads the module by its
 * real name, as a user's app does.
 */
export function startFixtureApp(fixtures: string, folder: string, file: string, env: NodeJS.ProcessEnv, agent = true): Promise<RunningApp> {
  const args = ['--preserve-symlinks', '--preserve-symlinks-main', ...(agent ? ['--import', REGISTER] : []), path.join(fixtures, folder, file)];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  exited.then(() => clearTimeout(killer));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m === null) return;
      const port = Number(m[1]);
      out = '';
      resolve({
        port,
        get: (urlPath) => get(port, urlPath),
        stop: async () => {
          await get(port, '/shutdown').catch(() => undefined);
          await exited;
          return stderr;
        },
      });
    });
    exited.then(() => reject(new Error(`${folder}/${file} exited before listening: ${stderr}`)));
  });
}

function get(port: number, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}
