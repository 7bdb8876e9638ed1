import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { instrumentations } from '../../instrumentations/index.js';
import { normalizeSubpath, splitPackagePath } from '../agent/module-info.js';
import { moduleKey, parseModuleKey, patches } from '../agent/registry.js';

/**
 * The diagnostics_channel on which a bundle built with one of our plugins publishes each instrumented
 * module as it loads. The agent subscribes; without the agent nobody does and the bundle runs unchanged.
 */
export const BUNDLED_MODULE_CHANNEL = 'acme-tracing:bundled-module';

/** What a bundle publishes for one module: the subscriber may replace `exports`. */
export interface BundledModuleMessage {
  name: string;
  version: string;
  /** The file inside the package ('' for its entry), as in the registry line. */
  file: string;
  exports: unknown;
}

/** One package file some instrumentation patches. */
export interface BundleTarget {
  instrumentation: string;
  name: string;
  /** Normalized like `normalizeSubpath`; '' for the package's entry. */
  subpath: string;
}

/**
 * Every package file a `patch` instrumentation targets, read from the registry lines of
 * instrumentations/index.ts — the declarations only; no instrumentation code is loaded.
 * Built-ins are left out: a Node bundle keeps them external and the require hook sees them.
 */
export function bundleTargets(): BundleTarget[] {
  const out: BundleTarget[] = [];
  for (const entry of instrumentations) {
    if (!patches(entry)) continue;
    for (const m of entry.modules) {
      if (m.reportOnly === true || isBuiltin(m.name)) continue;
      const t = parseModuleKey(moduleKey(m));
      out.push({ instrumentation: entry.name, name: t.name, subpath: t.subpath });
    }
  }
  return out;
}

/** What the plugin knows about a package file it may wrap. */
export interface PackageFile {
  name: string;
  version: string;
  /** Normalized subpath of the file inside the package. */
  subpath: string;
  /** The target's file as it is written in the trailer ('' for the entry). */
  targetSubpath: string;
  cjs: boolean;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  type?: unknown;
  exports?: unknown;
}

/**
 * Reads package.json files once per build. The package's name comes from its package.json (an npm
 * alias such as `ioredis5` installs `ioredis`), its version too, as the agent's require hook reads it.
 */
export class PackageFileMatcher {
  private readonly byName = new Map<string, BundleTarget[]>();
  private readonly manifests = new Map<string, PackageJson | null>();

  constructor(targets: readonly BundleTarget[] = bundleTargets()) {
    for (const t of targets) {
      let list = this.byName.get(t.name);
      if (list === undefined) this.byName.set(t.name, (list = []));
      list.push(t);
    }
  }

  /** The instrumented package file at this absolute path, or null when no instrumentation targets it. */
  match(filePath: string): PackageFile | null {
    const split = splitPackagePath(filePath);
    if (split === null) return null;
    const manifest = this.manifest(split.basedir);
    const name = typeof manifest?.name === 'string' ? manifest.name : split.name;
    const targets = this.byName.get(name);
    if (targets === undefined || manifest === null) return null;
    const subpath = normalizeSubpath(split.file);
    for (const t of targets) {
      const hit = t.subpath === '' ? entrySubpaths(manifest).includes(subpath) : t.subpath === subpath;
      if (!hit) continue;
      return {
        name,
        version: typeof manifest.version === 'string' ? manifest.version : '',
        subpath,
        targetSubpath: t.subpath,
        cjs: !/\.mjs$/.test(filePath) && (/\.cjs$/.test(filePath) || manifest.type !== 'module'),
      };
    }
    return null;
  }

  private manifest(basedir: string): PackageJson | null {
    let m = this.manifests.get(basedir);
    if (m === undefined) {
      try {
        m = JSON.parse(readFileSync(path.join(basedir, 'package.json'), 'utf8')) as PackageJson;
      } catch {
        m = null;
      }
      this.manifests.set(basedir, m);
    }
    return m;
  }
}

/** The files a package's entry may resolve to: `main` and the strings under `exports['.']`. */
function entrySubpaths(manifest: PackageJson): string[] {
  const out = [normalizeSubpath(typeof manifest.main === 'string' ? manifest.main : 'index.js')];
  const root = manifest.exports;
  const dot = root !== null && typeof root === 'object' && !Array.isArray(root) && '.' in root ? (root as Record<string, unknown>)['.'] : root;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(normalizeSubpath(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!k.startsWith('.')) walk(x);
  };
  walk(dot);
  return out;
}

/**
 * Source appended to a CommonJS target file. At run time it publishes the module only when someone
 * listens (the agent), then takes whatever the listener left in `exports`. It never throws: a
 * bundle without the agent behaves exactly as before. `process.getBuiltinModule` first, so an
 * ES-module bundle (whose `require` is a stub) reaches the channel too.
 */
export function moduleTrailer(file: PackageFile): string {
  const meta = `name:${JSON.stringify(file.name)},version:${JSON.stringify(file.version)},file:${JSON.stringify(file.targetSubpath)}`;
  return (
    `\n;(function(){try{var p=typeof process==="object"&&process;` +
    `var dc=p&&typeof p.getBuiltinModule==="function"?p.getBuiltinModule("node:diagnostics_channel"):require("diagnostics_channel");` +
    `var ch=dc.channel(${JSON.stringify(BUNDLED_MODULE_CHANNEL)});if(!ch.hasSubscribers)return;` +
    `var m={${meta},exports:module.exports,keptNames:[function ${KEPT_NAME_PROBES[0]}(){},class ${KEPT_NAME_PROBES[1]}{}]};` +
    `ch.publish(m);module.exports=m.exports;}catch(e){}})();\n`
  );
}

/**
 * A function and a class named in every trailer, handed to the agent with the module. A minifier that
 * renames functions and classes renames them too: the webpack plugin looks for these names in the
 * minified output (whatever the minifier), and the agent checks them at run time.
 */
export const KEPT_NAME_PROBES = ['acmeTracingKeptFn', 'AcmeTracingKeptClass'] as const;

/**
 * Instrumentations that read function names at run time, which a minifier renames: the express
 * instrumentation names middleware spans after the middleware function (`middleware - query`).
 */
export const NAME_DEPENDENT_INSTRUMENTATIONS = ['express'] as const;

/** Why a minified build without kept names fails, and the setting that fixes it (`fix`, in the bundler's words). */
export function keepNamesMessage(plugin: string, problem: string, fix: string): string {
  return (
    `${plugin}: ${problem}; ${fix} (the ${NAME_DEPENDENT_INSTRUMENTATIONS.join(', ')} ` +
    `instrumentation names spans after functions, which minification renames). See docs/bundling.md of @acme/tracing-agent.`
  );
}
