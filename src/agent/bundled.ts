import * as dc from 'node:diagnostics_channel';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { instrumentations } from '../../instrumentations/index.js';
import { describeError, log } from '../util/log.js';
import { normalizeSubpath } from './module-info.js';
import type { InstrumentationRegistry } from './registry.js';
import { patches } from './registry.js';

// Kept equal to BUNDLED_MODULE_CHANNEL (src/bundler/targets.ts), which the agent does not load.
const CHANNEL = 'acme-tracing:bundled-module';
// A bundle bigger than this is not read to look for inlined packages (the warning is a courtesy).
const MAX_SCAN_BYTES = 64 * 1024 * 1024;

let published = false;

/**
 * Listens for modules published by a bundle built with our esbuild or webpack plugin and hands each
 * to the registry, as the require hook does: same version check, same opt-out, same patch.
 */
export function listenForBundledModules(registry: InstrumentationRegistry): void {
  dc.subscribe(CHANNEL, (message) => {
    published = true;
    try {
      const m = message as { name?: unknown; version?: unknown; file?: unknown; exports?: unknown };
      if (typeof m.name !== 'string' || typeof m.version !== 'string' || typeof m.file !== 'string') return;
      m.exports = registry.onLoad({ name: m.name, subpath: normalizeSubpath(m.file), version: m.version, builtin: false }, m.exports);
    } catch (err) {
      log.warnOnce('hook:bundled', `internal error handling a bundled module, module left untouched: ${describeError(err)}`);
    }
  });
}

/**
 * Once the app is running, reads its main script (off the start-up path, on a later tick) and warns
 * once when it is a bundle built without our plugin that inlines packages we instrument: those
 * instrumentations cannot apply and the app would otherwise get http spans only, silently.
 */
export function checkForUnpluggedBundle(registry: InstrumentationRegistry): void {
  const main = process.argv[1];
  if (main === undefined || main === '') return;
  setTimeout(() => void scan(registry, path.resolve(main)), 0).unref();
}

/** Package names a bundle's main script inlines, from esbuild's `// node_modules/<pkg>/` and webpack's `./node_modules/<pkg>/` markers. */
export function inlinedPackages(source: string): Set<string> {
  const found = new Set<string>();
  const re = /(?:^\/\/ |\.\/)(?:[^\s"'`*]*\/)?node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//gm;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) found.add(m[1]!);
  return found;
}

async function scan(registry: InstrumentationRegistry, main: string): Promise<void> {
  try {
    if (published || (await stat(main)).size > MAX_SCAN_BYTES) return;
    const source = await readFile(main, 'utf8');
    if (published || source.includes(CHANNEL)) return;
    const inlined = inlinedPackages(source);
    if (inlined.size === 0) return;
    const loaded = Object.keys(require.cache);
    const missed = new Map<string, string[]>();
    for (const entry of instrumentations) {
      if (!patches(entry) || !registry.isEnabled(entry.name)) continue;
      for (const m of entry.modules) {
        if (m.reportOnly === true || !inlined.has(m.name)) continue;
        // Loaded from node_modules after all (an external): the require hook traces it.
        const marker = `${path.sep}node_modules${path.sep}${m.name.split('/').join(path.sep)}${path.sep}`;
        if (loaded.some((f) => f.includes(marker))) continue;
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
        `(only modules left outside the bundle, such as http, are traced). Build with the @acme/tracing-agent/esbuild plugin ` +
        `or mark these packages external; see docs/bundling.md`,
    );
  } catch (err) {
    log.debug(`could not check whether the main script is a bundle: ${describeError(err)}`);
  }
}
