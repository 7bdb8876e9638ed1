import { isBuiltin, syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { isModuleNamespaceObject } from 'node:util/types';
import { describeError, log } from '../util/log.js';
import { describeBuiltin, normalizeSubpath, packageVersion, type LoadedModule } from './module-info.js';
import type { HookTarget, InstrumentationRegistry } from './registry.js';
import { loadRequireInTheMiddle } from './require-in-the-middle.js';

type OnRequire = (exports: unknown, name: string, basedir?: string) => unknown;
type RequireFn = (this: unknown, id: string) => unknown;
type RitmHook = new (modules: string[], options: { internals: boolean }, onrequire: OnRequire) => unknown;

/**
 * The names require-in-the-middle matches: `pkg` for a package's entry, `pkg/lib/file` (its own
 * normalization: no `.js`, no `/index`) for a file inside it, `http` for a built-in.
 */
function ritmNames(targets: readonly HookTarget[]): string[] {
  return targets.map((t) => (t.subpath ? `${t.name}/${t.subpath}` : t.name));
}

/** What require-in-the-middle reported, as the registry matches it. */
function describeRequired(name: string, basedir: string | undefined): LoadedModule {
  if (basedir === undefined) return describeBuiltin(name);
  const slash = name.startsWith('@') ? name.indexOf('/', name.indexOf('/') + 1) : name.indexOf('/');
  const pkg = slash === -1 ? name : name.slice(0, slash);
  return { name: pkg, subpath: slash === -1 ? '' : normalizeSubpath(name.slice(slash + 1)), version: packageVersion(basedir), builtin: false };
}

/**
 * True while the module's own code is still running: a file inside the package required it back
 * (a cycle), which happens first when the package itself was loaded by `import`. Its exports are
 * incomplete, so it is left for the import hook, which sees the finished module.
 */
function stillLoading(mod: LoadedModule, name: string, basedir: string): boolean {
  try {
    const file = mod.subpath ? require.resolve(path.join(basedir, mod.subpath)) : require.resolve(name, { paths: [basedir] });
    const cached = require.cache[file];
    return cached !== undefined && !cached.loaded;
  } catch {
    return false;
  }
}

/**
 * Hooks `require()` for the given targets. Each call adds one require-in-the-middle hook watching only
 * those names, so modules nobody instruments pass through untouched.
 */
export function hookRequire(registry: InstrumentationRegistry, targets: readonly HookTarget[]): void {
  if (targets.length === 0) return;
  const { Hook } = loadRequireInTheMiddle<{ Hook: RitmHook }>();
  const proto = (require('node:module') as { prototype: { require: RequireFn } }).prototype;
  const before = proto.require;
  new Hook(ritmNames(targets), { internals: false }, (exports, name, basedir) => {
    try {
      // require() of an ES module (unflagged from Node 20.19/22.12) returns its namespace, which
      // cannot be written to: patching it would throw and disable the instrumentation for the whole
      // process. Leave it to the import hook, which patches the module wherever it is imported.
      if (isModuleNamespaceObject(exports)) {
        log.debug(`not patching ${name} through require(): an ES module's namespace is read-only; its imports are patched`);
        return exports;
      }
      const mod = describeRequired(name, basedir);
      if (basedir !== undefined && stillLoading(mod, mod.subpath ? name : mod.name, basedir)) return exports;
      const result = registry.onLoad(mod, exports);
      // ES-module importers of a built-in read a copy of its exports; refresh it so
      // `import { createServer } from 'node:http'` sees what `require('http')` now has.
      if (mod.builtin) syncBuiltinESMExports();
      return result;
    } catch (err) {
      log.warnOnce('hook:require', `internal error in the require hook, module left untouched: ${describeError(err)}`);
      return exports;
    }
  });
  const hooked = proto.require;
  if (hooked !== before) proto.require = requireInFront(registry, before, hooked);
}

/**
 * require-in-the-middle resolves every `require()` to a file (`Module._resolveFilename`, on top of the
 * resolve Node does anyway) before it looks at its list: ~270 requires of a small express app cost
 * ~35 ms of start-up on Node 24. In front of it, the specifier alone decides whether the require could
 * reach a target: a built-in that is one, a package (or a file of one) some instrumentation watches, a
 * path that lands in such a package's folder; everything else goes straight to the require that was
 * there before. A specifier a resolve hook of someone else's maps to another package (an alias) is
 * judged by its own name, as `import` is.
 */
function requireInFront(registry: InstrumentationRegistry, bypass: RequireFn, hooked: RequireFn): RequireFn {
  const front = function (this: unknown, id: string): unknown {
    let watched = true;
    try {
      watched = mayReachTarget(registry, id, this);
    } catch {
      // Undecided: require-in-the-middle decides.
    }
    return (watched ? hooked : bypass).apply(this, arguments as unknown as [string]);
  };
  Object.defineProperty(front, 'name', { value: bypass.name });
  return front;
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
    const file = path.isAbsolute(id) ? id : path.resolve(path.dirname(from as string), id);
    const at = file.lastIndexOf(NODE_MODULES);
    if (at === -1) return false;
    const rest = file.slice(at + NODE_MODULES.length).split(path.sep);
    return registry.watches(rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? ''));
  }
  if (isBuiltin(id)) return registry.hasTarget(id.startsWith('node:') ? id.slice(5) : id, '');
  const slash = id.indexOf('/', id.startsWith('@') ? id.indexOf('/') + 1 : 0);
  return registry.watches(slash === -1 ? id : id.slice(0, slash));
}
