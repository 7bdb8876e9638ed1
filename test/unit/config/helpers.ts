import * as path from 'node:path';
import { loadConfig, type LoadedConfig } from '../../../src/config/load.js';

/** A project root that exists nowhere, so no real package.json or config file leaks into a test. */
export const CWD = path.resolve('/virtual/app');

/** A readFile over an in-memory tree (absolute paths); anything else is ENOENT, as on disk. */
export function fakeFiles(files: Record<string, string>): (file: string) => string {
  return (file) => {
    const text = files[path.resolve(file)];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
}

/** loadConfig with only `env` and the given files: no process.env, no disk. */
export function load(env: NodeJS.ProcessEnv, files: Record<string, string> = {}, mainScript = ''): LoadedConfig {
  return loadConfig(env, { cwd: CWD, mainScript, readFile: fakeFiles(files) });
}
