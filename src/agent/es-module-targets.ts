import { readFileSync, realpathSync, statSync } from 'node:fs';
import path = require('node:path');
import { loaderModule } from './module-info.js';
import type { HookTarget } from './registry.js';

type PackageJson = { type?: unknown; main?: unknown; exports?: unknown };

// Conditions Node's ES-module resolver matches (`import`), in the order a package lists them.
const IMPORT_CONDITIONS = new Set(['import', 'module-sync', 'node', 'default']);

/** Whether deep imports of a package's ES-module files (`import 'graphql/index.mjs'`) count. */
export interface EsModuleTargetOptions {
  /**
   * True: a file target with an `.mjs` twin (or under `"type": "module"`) counts too, since a deep
   * import reaches it; asked where an in-thread resolve hook (`module.registerHooks`) can watch for
   * such an import, and by `registerInstrumentation()` there. False: only what `import '<package>'`
   * loads decides (Node 20 by default: a loader thread for graphql's rarely imported `.mjs` build
   * costs every app that has graphql installed ~10 MB and ~80 ms of CPU; `TRACING_IMPORT_HOOK=always`
   * restores it).
   */
  deepImports: boolean;
}

/**
 * The first target an ES-module importer would get as ES-module code, which only an import hook can
 * patch (a package that is ES-module only, or whose `import` condition loads its ES-module build), or
 * null. Decided from what Node's resolver loads for `import '<package>'` (`exports`' import/default
 * conditions, else `main` with `type`), not from which files exist: graphql 16 ships `.mjs` twins but
 * has no `exports` and `main: "index"`, so `import 'graphql'` loads its CommonJS build, which is patched
 * without a hook. Only packages installed where the app looks (`node_modules` of the main script's
 * folder and the working directory, and their parents, pnpm's hoisted store included) count: the
 * loader hook, a whole thread on Node 20, is started for the app's packages, not for every package an
 * instrumentation could target. A CommonJS package imported from an ES module is patched without it
 * (`Module._load`, see hooks-load.ts), a built-in at start.
 */
export function firstEsModuleTarget(targets: readonly HookTarget[], options: EsModuleTargetOptions): HookTarget | null {
  let dirs: string[] | null = null;
  for (const target of targets) {
    if (target.esModule === false || loaderModule.isBuiltin(target.name)) continue;
    dirs ??= nodeModulesDirs();
    if (loadsAsEsModule(target, dirs, options.deepImports)) return target;
  }
  return null;
}

/** Every existing `node_modules` folder an app's `import` may resolve a package from. */
function nodeModulesDirs(): string[] {
  const starts = new Set<string>([process.cwd()]);
  const main = process.argv[1];
  if (typeof main === 'string' && main !== '' && !main.startsWith('-')) {
    starts.add(path.dirname(path.resolve(main)));
    try {
      starts.add(path.dirname(realpathSync(main)));
    } catch {
      // Not a file (node -e, a REPL): the working directory stands for it.
    }
  }
  const found: string[] = [];
  const seen = new Set<string>();
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (path.basename(dir) !== 'node_modules') {
        const modules = under(dir, 'node_modules');
        for (const candidate of [modules, under(modules, `.pnpm${path.sep}node_modules`)]) {
          if (seen.has(candidate)) continue;
          seen.add(candidate);
          if (isDirectory(candidate)) found.push(candidate);
        }
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  return found;
}

/**
 * `parent` (absolute and normalized: a resolved path or one of its dirnames) joined with `child` (plain
 * names): string concatenation, not `path.join`, whose normalization, run for every target in every
 * folder here, is what made V8 optimize Node's `normalizeString` with TurboFan during the agent's start
 * on Node 20, paging ~3.5 MB of the optimizing compiler's machine code into an idle app's memory.
 */
function under(parent: string, child: string): string {
  return parent.endsWith(path.sep) ? parent + child : parent + path.sep + child;
}

function loadsAsEsModule(target: HookTarget, dirs: readonly string[], deepImports: boolean): boolean {
  const relative = path.sep === '/' ? target.name : target.name.split('/').join(path.sep);
  for (const dir of dirs) {
    const root = under(dir, relative);
    const pkg = readJson(under(root, 'package.json'));
    if (pkg === null) continue;
    if (target.esModule !== undefined) return target.esModule;
    if (target.subpath === '') return entryIsEsModule(pkg);
    // A file inside the package is reached as ES-module code when importing the package loads ES-module
    // code and the file is such code (@graphql-tools/executor's esm/ build), or, when deep imports count,
    // when the file has an `.mjs` twin (graphql 16).
    return (deepImports || entryIsEsModule(pkg)) && fileIsEsModule(root, target.subpath);
  }
  return false;
}

/** What `import 'pkg'` loads: the `exports` entry for Node's import conditions, else `main`. */
function entryIsEsModule(pkg: PackageJson): boolean {
  const entry = importEntry(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
  return isEsModuleFile(entry, pkg.type === 'module');
}

function importEntry(exports: unknown): string | null {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const item of exports) {
      const found = importEntry(item);
      if (found !== null) return found;
    }
    return null;
  }
  if (exports === null || typeof exports !== 'object') return null;
  const map = exports as Record<string, unknown>;
  if (Object.keys(map).some((k) => k.startsWith('.'))) return '.' in map ? importEntry(map['.']) : null;
  for (const [condition, value] of Object.entries(map)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const found = importEntry(value);
    if (found !== null) return found;
  }
  return null;
}

/**
 * True when one of `subpaths` (file targets of the package at `basedir`) is ES-module code for importers
 * (an `.mjs` twin or `"type": "module"`): a deep import of the package's ES-module build reaches it.
 */
export function hasEsModuleFileTarget(basedir: string, subpaths: readonly string[]): boolean {
  return subpaths.some((subpath) => fileIsEsModule(basedir, subpath));
}

/**
 * A file target (its normalized subpath: no extension, no `/index`) is ES-module code for importers
 * when an `.mjs` twin exists (graphql's build) or the nearest package.json says `"type": "module"`.
 */
function fileIsEsModule(root: string, subpath: string): boolean {
  const base = path.join(root, ...subpath.split('/'));
  if (isFile(`${base}.mjs`) || isFile(path.join(base, 'index.mjs'))) return true;
  for (let dir = base; dir.length >= root.length; dir = path.dirname(dir)) {
    const pkg = readJson(path.join(dir, 'package.json'));
    if (pkg !== null) return pkg.type === 'module';
    if (dir === root) break;
  }
  return false;
}

function isEsModuleFile(file: string, typeModule: boolean): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  return typeModule;
}

function readJson(file: string): PackageJson | null {
  // Most candidates do not exist (a target not installed there): a stat that does not throw costs a fifth
  // of a failed read, which builds an error with its stack.
  if (!isFile(file)) return null;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as PackageJson) : null;
  } catch {
    return null;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
  } catch {
    return false;
  }
}
