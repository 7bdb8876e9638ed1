// Builds the Next.js fixture app once per test run (reused while its sources and Next.js are unchanged)
// and starts it with `next start` under the agent.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApp, type FixtureApp } from '../../helpers/fixture-app.js';
import { cleanEnv, ROOT } from '../../helpers/run-node.js';

const SUITE = path.join(ROOT, 'test', 'integration', 'nextjs');
const SOURCES = path.join(SUITE, 'fixtures');
/** Next.js and React live in their own package (see deps/package.json). */
export const DEPS = path.join(SUITE, 'deps', 'node_modules');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])).sort();
}

export interface Build {
  dir: string;
  /** Seconds the build took; 0 when a previous build of the same sources was reused. */
  seconds: number;
}

/**
 * The app is built in the temporary folder, outside the repository, with node_modules linked to
 * DEPS: started with the symlink flags, Next.js then cannot find the repository's own
 * @opentelemetry/api and uses the copy compiled into it, as in an app that has no @opentelemetry/api.
 */
export function buildApp(): Build {
  const hash = createHash('sha256');
  hash.update(fs.realpathSync(DEPS));
  hash.update(fs.readFileSync(path.join(DEPS, 'next', 'package.json')));
  for (const file of filesUnder(SOURCES)) hash.update(path.relative(SOURCES, file)).update(fs.readFileSync(file));
  const dir = path.join(os.tmpdir(), `tracing-agent-next-${hash.digest('hex').slice(0, 16)}`);
  // Written only after `next build` succeeded: a build killed half-way (a test timeout) leaves
  // .next/BUILD_ID behind with a broken build that later runs would otherwise reuse.
  const done = path.join(dir, '.build-complete');
  if (fs.existsSync(done)) return { dir, seconds: 0 };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(SOURCES, dir, { recursive: true });
  fs.symlinkSync(DEPS, path.join(dir, 'node_modules'), 'dir');
  const started = process.hrtime.bigint();
  // --webpack: Turbopack (the default build) refuses a node_modules link that points outside the app.
  const result = spawnSync(process.execPath, [path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build', '--webpack'], {
    cwd: dir,
    env: { ...cleanEnv(), NEXT_TELEMETRY_DISABLED: '1' },
    encoding: 'utf8',
    timeout: 900_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    fs.rmSync(path.join(dir, '.next'), { recursive: true, force: true });
    throw new Error(`next build failed (${result.status ?? result.signal}): ${result.stdout}\n${result.stderr}`);
  }
  fs.writeFileSync(done, '');
  return { dir, seconds };
}

/**
 * `node [--preserve-symlinks --preserve-symlinks-main] --import register.mjs next start` on
 * 127.0.0.1, port 0. `compiledApi`: the symlink flags keep Next.js inside the build folder, where it
 * finds no @opentelemetry/api and uses its compiled copy; without them it resolves from its real
 * location and finds the repository's @opentelemetry/api package.
 */
export function startNext(dir: string, env: NodeJS.ProcessEnv, compiledApi: boolean): Promise<FixtureApp> {
  return startApp(path.join('node_modules', 'next', 'dist', 'bin', 'next'), {
    cwd: dir,
    args: ['start', '-H', '127.0.0.1', '-p', '0'],
    preserveSymlinks: compiledApi,
    env: { NEXT_TELEMETRY_DISABLED: '1', ...env },
    ready: /http:\/\/127\.0\.0\.1:(\d+)/,
    readyTimeoutMs: 90_000,
    stopWith: 'SIGTERM',
  });
}
