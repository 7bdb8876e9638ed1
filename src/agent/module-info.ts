import { readFileSync } from 'node:fs';
import path = require('node:path');

/** Which module loaded, as the registry matches it against instrumentation targets. */
export interface LoadedModule {
  /** Package name (`express`, `@scope/pkg`) or built-in name without `node:`. */
  name: string;
  /** File inside the package, normalized by `normalizeSubpath`; '' for the package's entry. */
  subpath: string;
  /** Package version, or the Node version for built-ins; '' when unknown. */
  version: string;
  builtin: boolean;
}

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const versions = new Map<string, string>();

/**
 * The CommonJS loader's `Module` class, which `require('node:module')` returns, read from this file's own module
 * record: requiring the public `node:module` loads lib/module.js and what it requires (the ES-module loader's modules
 * and the source-map classes), which a CommonJS app on Node 20 never loads otherwise (~0.8 M instructions and ~15
 * page faults of issue 21's job started by `--require`; docs/performance.md, round twenty). The statics the hooks use
 * (`_load`, `_cache`, `_resolveFilename`, `isBuiltin`, `syncBuiltinESMExports`, `prototype.require`) are the
 * loader's own; what only lib/module.js adds (`register`, `registerHooks`) is required where it is used
 * (hooks-esm.ts). A module Node loaded is a `Module`; one held in a bundle (scripts/bundle-start.mjs) inherits from
 * `Module.prototype`. Anything else (a test runner's own module registry) gets the built-in.
 */
export const loaderModule: typeof import('node:module') = (function findLoaderModule() {
  for (let proto: unknown = Object.getPrototypeOf(module); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor = Object.hasOwn(proto as object, 'constructor') ? (proto as { constructor: unknown }).constructor : undefined;
    if (typeof ctor === 'function' && ctor.prototype === proto && typeof (ctor as { _load?: unknown })._load === 'function') return ctor as typeof import('node:module');
  }
  return require('node:module') as typeof import('node:module');
})();

/** `node:http` → `http`; other names unchanged. */
export function stripNodePrefix(name: string): string {
  return name.startsWith('node:') ? name.slice(5) : name;
}

/**
 * Normalizes a file inside a package so `require` (which reports `lib/x`) and `import` (which reports
 * `lib/x.js`) agree: no leading `./`, forward slashes, no `.js`/`.cjs`/`.mjs`, no trailing `/index`.
 */
export function normalizeSubpath(file: string): string {
  // String operations, not regular expressions: this runs for every target the agent declares while it
  // starts (~50), and each regular expression a process runs is compiled from its source at its first use.
  let s = file.includes('\\') ? file.replaceAll('\\', '/') : file;
  if (s.startsWith('./')) s = s.slice(2);
  else if (s.startsWith('/')) s = s.slice(1);
  if (s.endsWith('.js')) s = s.slice(0, -3);
  else if (s.endsWith('.cjs') || s.endsWith('.mjs')) s = s.slice(0, -4);
  if (s === 'index') return '';
  return s.endsWith('/index') ? s.slice(0, -6) : s;
}

/** A built-in module: its version is the running Node's. */
export function describeBuiltin(id: string): LoadedModule {
  return { name: stripNodePrefix(id), subpath: '', version: process.versions.node, builtin: true };
}

/** Package name, root folder and file inside it, from an absolute path under `node_modules`. */
export function splitPackagePath(filePath: string): { name: string; basedir: string; file: string } | null {
  const at = filePath.lastIndexOf(NODE_MODULES);
  if (at === -1) return null;
  const rest = filePath.slice(at + NODE_MODULES.length).split(path.sep);
  const nameParts = rest[0]?.startsWith('@') ? 2 : 1;
  if (rest.length <= nameParts) return null;
  const name = rest.slice(0, nameParts).join('/');
  const basedir = filePath.slice(0, at + NODE_MODULES.length) + rest.slice(0, nameParts).join(path.sep);
  return { name, basedir, file: rest.slice(nameParts).join('/') };
}

/** The `version` in `<basedir>/package.json`, read once per folder; '' when unreadable. */
export function packageVersion(basedir: string): string {
  let version = versions.get(basedir);
  if (version === undefined) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path.join(basedir, 'package.json'), 'utf8'));
      const v = (parsed as { version?: unknown } | null)?.version;
      version = typeof v === 'string' ? v : '';
    } catch {
      version = '';
    }
    versions.set(basedir, version);
  }
  return version;
}

/**
 * Every package name that follows a `node_modules` folder in one of `files` (`a/node_modules/x/node_modules/y/i.js`:
 * x and y). One pass over the files, then a set lookup per name: at start require.cache holds the ~70 modules of
 * the agent's bundles, and searching every file for every target (~50) cost ~3 M instructions of each process's start.
 */
export function packagesIn(files: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (let at = file.indexOf(NODE_MODULES); at !== -1; at = file.indexOf(NODE_MODULES, at + 1)) {
      const start = at + NODE_MODULES.length;
      let end = file.indexOf(path.sep, start);
      if (end !== -1 && file.charCodeAt(start) === 64 /* @ */) end = file.indexOf(path.sep, end + 1);
      // A package's files are below its folder: the name is followed by a separator.
      if (end === -1) continue;
      const name = file.slice(start, end);
      names.add(path.sep === '/' ? name : name.split(path.sep).join('/'));
    }
  }
  return names;
}
