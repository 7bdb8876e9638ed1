import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { cleanEnv, REGISTER, ROOT } from '../../helpers/run-node.js';

/** The fixture apps (sources, not compiled): one folder per client major, symlinked to the shared app. */
export const FIXTURES = path.join(ROOT, 'test', 'integration', 'db-redis', 'fixtures');

export interface RunningApp {
  get(urlPath: string): Promise<{ status: number; body: string }>;
  /** Asks the app to clean up its keys and close; resolves with its stderr once it has exited. */
  stop(): Promise<string>;
}

/**
 * Starts `fixtures/<folder>/<file>` under `--import register.mjs` (or without the agent when
 * `agent` is false) and resolves once it printed its port. The symlink flags keep the folder's
 * `node_modules/<client>` → aliased package path, so the app loads the client by its real name.
 */
export function startApp(folder: string, file: string, env: NodeJS.ProcessEnv, agent = true): Promise<RunningApp> {
  const args = ['--preserve-symlinks', '--preserve-symlinks-main', ...(agent ? ['--import', REGISTER] : []), path.join(FIXTURES, folder, file)];
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

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}
