// Starts one app under one agent as a child process and waits until it listens.
import { spawn } from 'node:child_process';
import { APP_PACKAGES, PEER_PACKAGES, appFolder } from './app-folder.mjs';
import { pinned } from './pinning.mjs';

/** Environment of the parent without any tracing settings a developer may have exported. */
export function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(TRACING_|OTEL_|DD_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * The app's copy in a folder of its own (app-folder.mjs) and that folder, the working directory every
 * row runs it from: its node_modules holds the app's packages and the peers' entry packages, so that
 * the peers' bare `--import` specifiers resolve there. Run in place (apps/, cwd benchmarks/), our agent
 * found the repository's devDependencies and on Node 20 started the loader thread, which a user's app
 * does not have (docs/performance.md, round twenty, harness room).
 */
export function appLocation(app) {
  return appFolder(app, { packages: [...(APP_PACKAGES[app] ?? []), ...PEER_PACKAGES] });
}

export function appPath(app) {
  return appLocation(app).file;
}

/**
 * Spawns `<node> <agent flags> <app>.mjs` from the app's folder (appLocation) and resolves once it
 * prints its port. Rejects with its stderr on failure.
 * `node` is the binary of the line under test (node-line.mjs); this process's Node by default.
 */
export function startApp({ app, agentArgs, env, cpu, node, timeoutMs = 30000 }) {
  const started = performance.now();
  const { dir, file } = appLocation(app);
  const { command, args } = pinned(cpu, [...agentArgs, file], node);
  const child = spawn(command, args, {
    cwd: dir,
    env: cleanEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop().then(() => reject(new Error(`${why}; stderr: ${stderr.trim().slice(-800)}`)));
    };
    child.once('error', (err) => fail(err.message));
    exited.then(({ code, signal }) => fail(`exited (${code ?? signal}) before listening`));
    child.stdout.on('data', (d) => {
      out += d;
      const match = /listening on (\d+)/.exec(out);
      if (match && !settled) {
        settled = true;
        clearTimeout(timer);
        child.stdout.resume();
        resolve({
          pid: child.pid,
          port: Number(match[1]),
          startMs: performance.now() - started,
          stderr: () => stderr,
          stop,
        });
      }
    });
  });
}

/** Runs `<node> <agent flags> empty.mjs` (from its folder) to its exit and resolves with the wall time in ms. */
export function timeEmptyScript({ agentArgs, env, cpu, node, timeoutMs = 30000 }) {
  const started = performance.now();
  const { dir, file } = appLocation('empty');
  const { command, args } = pinned(cpu, [...agentArgs, file], node);
  const child = spawn(command, args, { cwd: dir, env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`still running after ${timeoutMs} ms`)); }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`exit code ${code}; stderr: ${stderr.trim().slice(-800)}`));
    });
  });
}
