import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';

/** The fixture apps (sources, not compiled): one folder per framework major. */
export const FIXTURES = path.join(ROOT, 'test', 'integration', 'frameworks', 'fixtures');

export interface Reply {
  status: number;
  body: string;
}

export interface RunningApp {
  port: number;
  get(urlPath: string): Promise<Reply>;
  /** Asks the app to close its server, and resolves with its stderr once it has exited. */
  stop(): Promise<string>;
}

/**
 * Starts `fixtures/<folder>/<file>` under `--import register.mjs`, resolves once it printed its port.
 * Folders for a major (`express4`) hold symlinks to the framework's app and to the aliased package
 * (`node_modules/express` → `node_modules/express4`); the symlink flags keep those paths, so the
 * app loads "express" by that name, as a user's app does.
 */
export function startApp(folder: string, file: string, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const child = spawn(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', '--import', REGISTER, path.join(FIXTURES, folder, file)], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
