import path = require('node:path');
import { describeError, log } from '../util/log.js';
import { loaderModule, normalizeSubpath, packageVersion, splitPackagePath, type LoadedModule } from './module-info.js';
import type { InstrumentationRegistry } from './registry.js';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const entries = new Map<string, string[]>();
let hooked = false;

/**
 * Patches CommonJS packages that an ES module imports, without an import hook. Node's ES-module
 * loader loads a CommonJS file with `Module._load(filename)` (no parent; the require hook, which
 * wraps `Module.prototype.require`, never sees it) and copies the named exports from
 * `module.exports` only after that call returns: patched in place here, `import { x } from 'pkg'`,
 * the default import and `import()` all get the patched functions. A patch that returns a different
 * object cannot be served this way (the loader reads `module.exports`, not what `_load` returns);
 * such a target declares `esModule: true` so the import hook is started for it.
 */
export function hookCommonJsImports(registry: InstrumentationRegistry): void {
  // The module object itself (an `import * as` namespace would only have getters).
  const Module = loaderModule as unknown as { _load?: Load };
  const original = Module._load;
  if (hooked || typeof original !== 'function') return;
  hooked = true;
  const load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = original.apply(this, arguments as unknown as Parameters<Load>);
    // A require() always has a parent; the ES-module loader's call has none and passes the file name.
    if (parent !== undefined && parent !== null) return exports;
    if (typeof request !== 'string' || !request.includes(NODE_MODULES)) return exports;
    return onCommonJsImport(registry, request, exports);
  };
  Object.defineProperty(load, 'name', { value: original.name });
  Module._load = load;
}

function onCommonJsImport(registry: InstrumentationRegistry, file: string, exports: unknown): unknown {
  try {
    const parts = splitPackagePath(file);
    if (parts === null || !registry.watches(parts.name)) return exports;
    const subpath = normalizeSubpath(parts.file);
    const version = packageVersion(parts.basedir);
    let result = exports;
    if (subpath !== '' && registry.hasTarget(parts.name, subpath)) result = patch(registry, { name: parts.name, subpath, version, builtin: false }, result);
    if (registry.hasTarget(parts.name, '') && (subpath === '' || isPackageEntry(parts.basedir, parts.name, file))) {
      result = patch(registry, { name: parts.name, subpath: '', version, builtin: false }, result);
    }
    return result;
  } catch (err) {
    log.warnOnce('hook:load', `internal error in the CommonJS import hook, module left untouched: ${describeError(err)}`);
    return exports;
  }
}

function patch(registry: InstrumentationRegistry, mod: LoadedModule, exports: unknown): unknown {
  const result = registry.onLoad(mod, exports);
  if (result !== exports) {
    log.warnOnce(
      `hook:load:${mod.name}`,
      `an instrumentation replaced the exports of ${mod.name}${mod.subpath ? `/${mod.subpath}` : ''} instead of patching them; ES-module importers get the unpatched module unless its target sets esModule: true`,
    );
  }
  return result;
}

/** True when `file` is what `require('<name>')` resolves to for the package at `basedir`. */
export function isPackageEntry(basedir: string, name: string, file: string): boolean {
  let found = entries.get(basedir);
  if (found === undefined) {
    found = [];
    // `main` (a folder's resolution), then `exports` with require's conditions, from above the package.
    const above = path.resolve(basedir, ...name.split('/').map(() => '..'), '..');
    for (const resolve of [() => require.resolve(basedir), () => require.resolve(name, { paths: [above] })]) {
      try {
        found.push(resolve());
      } catch {
        // No such entry: the package is reached through its files only.
      }
    }
    entries.set(basedir, found);
  }
  return found.includes(file);
}
