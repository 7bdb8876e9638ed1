// The overhead apps, run from a folder of their own as a user's app is, not from this repository.
//
// The agent looks for installed packages from the working directory and from the main script's folder up
// (src/agent/es-module-targets.ts). An app run in place (benchmarks/overhead/apps, or any working directory
// inside this repository) makes it find the repository's devDependencies, among them
// @graphql-tools/executor's ES-module build, and install its import hook: on Node 20 module.register's
// loader thread, a second isolate (~11 MB of RSS, ~300 M instructions at start) that a user's plain http
// app never has (docs/performance.md, round twenty, exchange and harness rooms). So each harness copies
// the app into a temporary folder beside a node_modules holding only what it imports (linked from
// benchmarks/node_modules), and runs it with that folder as its working directory.
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchModules = fileURLToPath(new URL('../node_modules/', import.meta.url));
const appsDir = fileURLToPath(new URL('./apps/', import.meta.url));

/** What each app of ./apps imports besides Node's built-ins. */
export const APP_PACKAGES = {
  empty: [],
  http: [],
  'http-body': [],
  fetch: [],
  express: ['express'],
  fastify: ['fastify'],
  'otel-span': ['@opentelemetry/api'],
};

/**
 * The peers' entry packages (overhead/agents.mjs): linked beside an app the peers run, their bare
 * `--import`/`--experimental-loader` specifiers resolve from its folder as from a user's app that
 * installed them. None is a target of ours, so our rows in the same folder are not changed by them.
 */
export const PEER_PACKAGES = ['@opentelemetry/auto-instrumentations-node', '@opentelemetry/instrumentation', 'dd-trace'];

const made = new Map();

/**
 * A temporary folder holding a copy of `app` (a name of ./apps, or `source`: another file, copied as
 * `<app>.mjs`) and a node_modules with `packages` linked in (the app's own by default); made once per
 * process and set of packages, removed at exit. Returns the folder (the working directory to run it
 * from) and the copy's path.
 * @param {string} app
 * @param {{ packages?: string[], source?: string }} [options]
 * @returns {{ dir: string, file: string }}
 */
export function appFolder(app, { packages, source } = {}) {
  const file = source ?? path.join(appsDir, `${app}.mjs`);
  const wanted = packages ?? APP_PACKAGES[app];
  if (wanted === undefined) throw new Error(`app-folder: no package list for ${app} (pass packages)`);
  const key = `${file}\0${[...wanted].sort().join('\0')}`;
  const known = made.get(key);
  if (known !== undefined) return known;
  const dir = mkdtempSync(path.join(os.tmpdir(), `app-${app}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of wanted) {
    const link = path.join(modules, ...name.split('/'));
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(realpathSync(path.join(benchModules, ...name.split('/'))), link);
  }
  const copy = path.join(dir, `${app}.mjs`);
  copyFileSync(file, copy);
  const folder = { dir, file: copy };
  made.set(key, folder);
  return folder;
}

/**
 * For a harness that loads an app into its own child process (the child is the harness file itself, run
 * under the agent): a temporary folder holding `run.mjs`, which imports `script` (an absolute path), and an
 * empty node_modules, so that the agent's main script and working directory are outside this repository.
 * `node [flags] <file> args...` then runs `script` with the same `process.argv` from index 2.
 * @param {string} script
 * @returns {{ dir: string, file: string }}
 */
export function launcherFolder(script) {
  const known = made.get(`launcher\0${script}`);
  if (known !== undefined) return known;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'app-launcher-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules'));
  const file = path.join(dir, 'run.mjs');
  writeFileSync(file, `await import(${JSON.stringify(pathToFileURL(script).href)});\n`);
  const folder = { dir, file };
  made.set(`launcher\0${script}`, folder);
  return folder;
}
