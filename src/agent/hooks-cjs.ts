import path = require('node:path');
import { isModuleNamespaceObject } from 'node:util/types';
import { describeError, log } from '../util/log.js';
import { isPackageEntry } from './hooks-load.js';
import { describeBuiltin, loaderModule, normalizeSubpath, packageVersion, splitPackagePath, stripNodePrefix } from './module-info.js';
import type { HookTarget, InstrumentationRegistry } from './registry.js';

type RequireFn = (this: unknown, id: string) => unknown;
type CachedModule = { loaded: boolean };
interface ModuleStatics {
  prototype: { require: RequireFn };
  _resolveFilename(request: string, parent: unknown): string;
  _cache: Record<string, CachedModule | undefined>;
}

// Per module instance: the exports the app got and what it gets instead (the same object, patched in
// place, or a replacement), so a second require of a watched module is answered without patching again.
let answered = new WeakMap<object, { exports: unknown; result: unknown }>();
let hooked = false;

/**
 * Hooks `require()` (and `process.getBuiltinModule`) once; what it patches is asked of the registry
 * at each require, so targets registered later are seen without another hook. Every require first
 * passes a check on the specifier alone (`mayReachTarget`): a small express app makes ~270 requires,
 * and resolving each one to a file a second time, as a generic require hook does, cost ~35 ms of
 * start-up on Node 24. Only requires that may load a target are resolved and matched.
 */
export function hookRequire(registry: InstrumentationRegistry, targets: readonly HookTarget[]): void {
  if (targets.length === 0) return;
  if (hooked) {
    // New targets: a module required before is looked at again on its next require (the registry
    // patches each instance once per instrumentation, so what was patched stays as it is).
    answered = new WeakMap();
    return;
  }
  hooked = true;
  const Module = loaderModule as unknown as ModuleStatics;
  const original = Module.prototype.require;
  const hookedRequire = function require(this: unknown, id: string): unknown {
    let watched = true;
    try {
      watched = mayReachTarget(registry, id, this);
    } catch {
      // Undecided: looked at after loading.
    }
    const exports = original.apply(this, arguments as unknown as [string]);
    return watched ? onRequired(registry, Module, id, this, exports) : exports;
  };
  Module.prototype.require = hookedRequire;

  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof getBuiltinModule === 'function') {
    (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule = function getBuiltinModule_(this: unknown, id: string): unknown {
      const exports = getBuiltinModule.apply(this, arguments as unknown as [string]);
      return exports !== undefined && typeof id === 'string' && loaderModule.isBuiltin(id) ? onBuiltin(registry, stripNodePrefix(id), exports) : exports;
    };
    Object.defineProperty(process.getBuiltinModule, 'name', { value: 'getBuiltinModule' });
  }
}

/** What the app gets for a require that may have loaded a target. Never throws. */
function onRequired(registry: InstrumentationRegistry, Module: ModuleStatics, id: string, parent: unknown, exports: unknown): unknown {
  try {
    if (typeof id !== 'string') return exports;
    if (loaderModule.isBuiltin(id)) return onBuiltin(registry, stripNodePrefix(id), exports);
    let file: string;
    try {
      file = Module._resolveFilename(id, parent);
    } catch {
      // Loaded, yet not resolvable again (a module someone else's require hook serves): not a package file.
      return exports;
    }
    const cached = Module._cache[file];
    // Still loading (a cycle back into it, or a package an ES module is importing): its exports are
    // incomplete; the require that finishes it, or the import hook, patches it.
    if (cached !== undefined && !cached.loaded) return exports;
    const known = cached === undefined ? undefined : answered.get(cached);
    if (known !== undefined && known.exports === exports) return known.result;
    const result = patchRequired(registry, id, file, exports);
    if (cached !== undefined) answered.set(cached, { exports, result });
    return result;
  } catch (err) {
    log.warnOnce('hook:require', `internal error in the require hook, module left untouched: ${describeError(err)}`);
    return exports;
  }
}

function onBuiltin(registry: InstrumentationRegistry, name: string, exports: unknown): unknown {
  if (!registry.hasTarget(name, '') || exports === null || typeof exports !== 'object') return exports;
  const known = answered.get(exports);
  if (known !== undefined) return known.result;
  try {
    const result = registry.onLoad(describeBuiltin(name), exports);
    // ES-module importers of a built-in read a copy of its exports; refresh it so
    // `import { createServer } from 'node:http'` sees what `require('http')` now has.
    loaderModule.syncBuiltinESMExports();
    answered.set(exports, { exports, result });
    return result;
  } catch (err) {
    log.warnOnce('hook:require', `internal error in the require hook, module left untouched: ${describeError(err)}`);
    return exports;
  }
}

/** Patches a package file that just loaded when it is a target: a file inside a package, or its entry. */
function patchRequired(registry: InstrumentationRegistry, id: string, file: string, exports: unknown): unknown {
  const parts = splitPackagePath(file);
  if (parts === null || !registry.watches(parts.name)) return exports;
  // require() of an ES module (unflagged from Node 20.19/22.12) returns its namespace, which cannot be
  // written to: patching it would throw and disable the instrumentation for the whole process. Leave it
  // to the import hook, which patches the module wherever it is imported.
  if (isModuleNamespaceObject(exports)) {
    log.debug(`not patching ${id} through require(): an ES module's namespace is read-only; its imports are patched`);
    return exports;
  }
  const subpath = normalizeSubpath(parts.file);
  let result = exports;
  if (subpath !== '' && registry.hasTarget(parts.name, subpath)) {
    result = registry.onLoad({ name: parts.name, subpath, version: packageVersion(parts.basedir), builtin: false }, result);
  }
  if (registry.hasTarget(parts.name, '') && (subpath === '' || id === parts.name || isPackageEntry(parts.basedir, parts.name, file))) {
    result = registry.onLoad({ name: parts.name, subpath: '', version: packageVersion(parts.basedir), builtin: false }, result);
  }
  return result;
}

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** False only when `id`, required from `parent`, cannot load a module some instrumentation targets. */
export function mayReachTarget(registry: InstrumentationRegistry, id: unknown, parent: unknown): boolean {
  if (typeof id !== 'string' || id === '') return true;
  const first = id.charCodeAt(0);
  // `#name`: the package's own imports map, which may point into another package.
  if (first === 35) return true;
  if (first === 46 || path.isAbsolute(id)) {
    const from = (parent as { filename?: unknown } | null)?.filename;
    if (!path.isAbsolute(id) && typeof from !== 'string') return true;
    const name = path.isAbsolute(id) ? undefined : packageOfSibling(from as string, id);
    if (name !== undefined) return name !== null && registry.watches(name);
    const file = path.isAbsolute(id) ? id : path.resolve(path.dirname(from as string), id);
    const at = file.lastIndexOf(NODE_MODULES);
    if (at === -1) return false;
    const rest = file.slice(at + NODE_MODULES.length).split(path.sep);
    return registry.watches(rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? ''));
  }
  // A specifier a resolve hook of someone else's maps to another package (an alias) is judged by its
  // own name, as `import` is.
  if (loaderModule.isBuiltin(id)) return registry.hasTarget(stripNodePrefix(id), '');
  const slash = id.indexOf('/', id.startsWith('@') ? id.indexOf('/') + 1 : 0);
  return registry.watches(slash === -1 ? id : id.slice(0, slash));
}

/**
 * The package a `./x` require lands in, told from the requiring file's path alone: a specifier that goes no
 * folder up and names no node_modules folder stays in the requiring file's package (null: in none). Undefined
 * when only a resolve can tell (`..`, `./node_modules/…`, a file directly in a node_modules or scope folder, Windows).
 * Most of an app's relative requires are a package's requires of its own files (~70 of a small express app's
 * ~270): this spares a path.resolve and a path.dirname each, which also keeps those functions of Node's from
 * being optimised at start for the agent alone (TurboFan compiled path.resolve for the express app of the
 * start-up benchmark, ~17 M instructions; docs/performance.md, round fifteen).
 */
function packageOfSibling(from: string, id: string): string | null | undefined {
  if (path.sep !== '/' || id.charCodeAt(1) !== 47 /* ./ */ || id.includes('..') || id.includes('node_modules')) return undefined;
  const at = from.lastIndexOf(NODE_MODULES);
  if (at === -1) return null;
  const start = at + NODE_MODULES.length;
  let end = from.indexOf('/', start);
  if (end !== -1 && from.charCodeAt(start) === 64 /* @ */) end = from.indexOf('/', end + 1);
  // The requiring file is not inside a package folder (directly in node_modules, or in a scope folder).
  return end === -1 ? undefined : from.slice(start, end);
}
