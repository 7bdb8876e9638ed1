import dc = require('node:diagnostics_channel');
import { readFileSync, statSync } from 'node:fs';
import path = require('node:path');
import { instrumentations } from '../../instrumentations/index.js';
import { describeError, log } from '../util/log.js';
import { normalizeSubpath, packagesIn } from './module-info.js';
import type { InstrumentationRegistry } from './registry.js';
import { patches } from './registry.js';

// Kept equal to BUNDLED_MODULE_CHANNEL (src/bundler/targets.ts), which the agent does not load.
const CHANNEL = 'acme-tracing:bundled-module';
// A bundle bigger than this is not read to look for inlined packages (the warning is a courtesy).
const MAX_SCAN_BYTES = 64 * 1024 * 1024;
// Kept equal to KEPT_NAME_PROBES (src/bundler/targets.ts): a function and a class every trailer names.
const KEPT_NAME_PROBES = ['acmeTracingKeptFn', 'AcmeTracingKeptClass'];
// A main script smaller than this is not searched for minified packages: the smallest bundle of an
// instrumented package is bigger (bunyan alone, minified: 16 KiB).
const MIN_MINIFIED_BUNDLE_CHARS = 8 * 1024;
// In both kinds of marker of an inlined package: esbuild's `// node_modules/<pkg>/` and webpack's `./node_modules/<pkg>/`.
const MARKER_PATH = 'node_modules/';

/**
 * A minifier drops the file-name comments and module ids that name inlined packages, but keeps string
 * literals. One string per package that its code keeps through minification (an error message, an
 * internal setting name) and that an app's own main script has no reason to write; checked against
 * every installed major by test/unit/agent/bundled.test.ts. Packages left out are not recognized in a
 * minified bundle (the agent still traces what it can; the warning is a courtesy).
 */
export const MINIFIED_FINGERPRINTS: Readonly<Record<string, string>> = {
  express: 'trust proxy fn',
  fastify: 'FST_ERR_HOOK_INVALID_TYPE',
  koa: 'proxyIpHeader',
  '@hapi/hapi': 'Cannot start server while it is in',
  pg: 'Client has already been connected. You cannot reuse a client.',
  'pg-pool': 'Cannot use a pool after calling end on the pool',
  mysql2: "Can't add new command when connection is in closed state",
  ioredis: 'Reached the max retries per request limit',
  '@redis/client': 'Socket closed unexpectedly',
  graphql: 'Must provide document.',
  undici: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  pino: 'pino.setLevel',
  winston: '[winston] Unknown logger level: %s',
  bunyan: 'invalid Logger creation: do not pass a second arg',
  '@grpc/grpc-js': 'Channel has been shut down',
  amqplib: 'Channel ended, no reply will be forthcoming',
};

const PLUGIN_OF = { esbuild: '@acme/tracing-agent/esbuild', webpack: '@acme/tracing-agent/webpack', unknown: '@acme/tracing-agent/esbuild or /webpack' } as const;

let published = false;

/**
 * Listens for modules published by a bundle built with our esbuild or webpack plugin and hands each
 * to the registry, as the require hook does: same version check, same opt-out, same patch.
 */
export function listenForBundledModules(registry: InstrumentationRegistry): void {
  dc.subscribe(CHANNEL, (message) => {
    published = true;
    try {
      const m = message as { name?: unknown; version?: unknown; file?: unknown; exports?: unknown; keptNames?: unknown };
      if (typeof m.name !== 'string' || typeof m.version !== 'string' || typeof m.file !== 'string') return;
      m.exports = registry.onLoad({ name: m.name, subpath: normalizeSubpath(m.file), version: m.version, builtin: false }, m.exports);
      warnIfNamesLost(m.name, m.keptNames);
    } catch (err) {
      log.warnOnce('hook:bundled', `internal error handling a bundled module, module left untouched: ${describeError(err)}`);
    }
  });
}

/**
 * The plugins fail a minified build that renames functions; a bundle minified again afterwards (by
 * another tool) slips past them, so the agent checks the names the trailer carries.
 */
function warnIfNamesLost(name: string, probes: unknown): void {
  if (!Array.isArray(probes) || probes.every((p, i) => typeof p === 'function' && p.name === KEPT_NAME_PROBES[i])) return;
  log.warnOnce(
    'bundle:names-lost',
    `this bundle was minified without keeping function and class names: ${name} and the other bundled packages are traced, but spans named ` +
      `after functions (express middleware) get minified names; keep names in the minifier (esbuild keepNames, terser keep_fnames and keep_classnames), see docs/bundling.md`,
  );
}

/**
 * Once the app is running, reads its main script (off the start-up path, on a later tick) and warns
 * once when it is a bundle built without our plugin that inlines packages we instrument: those
 * instrumentations cannot apply and the app would otherwise get http spans only, silently.
 */
export function checkForUnpluggedBundle(registry: InstrumentationRegistry): void {
  const main = process.argv[1];
  if (main === undefined || main === '') return;
  const file = path.resolve(main);
  if (cannotInline(file)) return;
  setTimeout(() => scan(registry, file), 0).unref();
}

/**
 * True for a main script too small to be a minified bundle that names no `node_modules/` path: the scan
 * could find nothing in it. Most apps' entry files are such, and answering now, from a file Node has just
 * read, spares them the timer (a process's first timer compiles Node's timer code: ~1.4 M instructions of
 * an empty script's start). Anything else (a bigger file, a marker, an error) is left to the scan.
 */
function cannotInline(file: string): boolean {
  try {
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined || size >= MIN_MINIFIED_BUNDLE_CHARS) return false;
    return !readFileSync(file, 'utf8').includes(MARKER_PATH);
  } catch {
    return false;
  }
}

/** What a main script tells about the packages it inlines, and which bundler wrote it. */
export interface InlinedPackages {
  packages: Set<string>;
  /** esbuild or webpack when their markers name the packages; null when only fingerprints did (a minified bundle). */
  bundler: 'esbuild' | 'webpack' | null;
}

/**
 * Package names a bundle's main script inlines: from esbuild's `// node_modules/<pkg>/` comments and
 * webpack's `./node_modules/<pkg>/` module ids; when a minifier left none, from the fingerprints of
 * the packages in `candidates` (a big file only).
 */
export function inlinedPackages(source: string, candidates: Iterable<string> = Object.keys(MINIFIED_FINGERPRINTS)): InlinedPackages {
  const packages = new Set<string>();
  let bundler: InlinedPackages['bundler'] = null;
  // Both markers hold this path; without it the regular expression (compiled at its first use) need not run.
  const re = /(^\/\/ |\.\/)(?:[^\s"'`*]*\/)?node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//gm;
  for (let m = source.includes(MARKER_PATH) ? re.exec(source) : null; m !== null; m = re.exec(source)) {
    packages.add(m[2]!);
    bundler ??= m[1] === './' ? 'webpack' : 'esbuild';
  }
  if (packages.size > 0 || source.length < MIN_MINIFIED_BUNDLE_CHARS) return { packages, bundler };
  for (const name of candidates) {
    const fingerprint = MINIFIED_FINGERPRINTS[name];
    if (fingerprint !== undefined && source.includes(fingerprint)) packages.add(name);
  }
  return { packages, bundler };
}

function scan(registry: InstrumentationRegistry, main: string): void {
  try {
    if (published) return;
    // Synchronous reads, on this later tick: fs's asynchronous calls would start libuv's thread pool (4
    // threads) in every app that has none (a CommonJS app; any app on Node 22+), for one file Node has
    // just read (in the page cache), whose search below is synchronous anyway.
    const size = statSync(main).size;
    if (size > MAX_SCAN_BYTES) return;
    const source = readFileSync(main, 'utf8');
    if (source.includes(CHANNEL)) return;
    const enabled = new Set(instrumentations.filter((e) => patches(e) && registry.isEnabled(e.name)).flatMap((e) => e.modules.map((m) => m.name)));
    const { packages: inlined, bundler } = inlinedPackages(source, enabled);
    if (inlined.size === 0) return;
    const loaded = packagesIn(Object.keys(require.cache));
    const missed = new Map<string, string[]>();
    for (const entry of instrumentations) {
      if (!patches(entry) || !registry.isEnabled(entry.name)) continue;
      for (const m of entry.modules) {
        if (m.reportOnly === true || !inlined.has(m.name)) continue;
        // Loaded from node_modules after all (an external): the require hook traces it.
        if (loaded.has(m.name)) continue;
        const pkgs = missed.get(entry.name) ?? [];
        if (!pkgs.includes(m.name)) pkgs.push(m.name);
        missed.set(entry.name, pkgs);
      }
    }
    if (missed.size === 0) return;
    const names = [...missed.keys()].join(', ');
    log.warnOnce(
      'bundle:no-plugin',
      `${path.basename(main)} is a bundle that inlines ${[...new Set([...missed.values()].flat())].join(', ')}: the ${names} instrumentation${missed.size > 1 ? 's' : ''} cannot apply ` +
        `(only modules left outside the bundle, such as http, are traced). Build with the ${PLUGIN_OF[bundler ?? 'unknown']} plugin ` +
        `or mark these packages external; see docs/bundling.md`,
    );
  } catch (err) {
    log.debug(`could not check whether the main script is a bundle: ${describeError(err)}`);
  }
}
