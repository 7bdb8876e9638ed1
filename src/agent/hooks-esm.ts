import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError, log } from '../util/log.js';
import { patchNowOrOnLoad } from './builtin-loads.js';
import { firstEsModuleTarget, hasEsModuleFileTarget } from './es-module-targets.js';
import { hookCommonJsImports } from './hooks-load.js';
import { describeBuiltin, loaderModule, normalizeSubpath, packageVersion, splitPackagePath, type LoadedModule } from './module-info.js';
import type { ImportHookMode } from '../config/types.js';
import { parseModuleKey, type HookTarget, type InstrumentationRegistry } from './registry.js';

/**
 * How ES-module imports are hooked: not yet (`lazy`: built-ins patched as they load, CommonJS packages as
 * the ES-module loader loads them, no loader hook), in-thread (`module.registerHooks`), off-thread
 * (`module.register`), or not at all.
 */
export type EsmHookMode = 'lazy' | 'sync' | 'async' | 'none';

/** The installed import hook. */
export interface ImportHook {
  /** The mode now: `lazy` becomes `sync`/`async` when a target needs a loader hook. */
  readonly mode: EsmHookMode;
  /** Widens what the hook intercepts; resolves once the loader will see the new targets. */
  add(targets: readonly HookTarget[]): Promise<void>;
}

type Namespace = Record<string, unknown>;
type IitmHookFn = (url: string, namespace: Namespace, specifier?: string, format?: string) => void;
type ShouldInclude = (url: string, specifier: string) => boolean;
interface SyncHooksModule {
  supportsSyncHooks(): boolean;
  register(options: { shouldInclude: ShouldInclude }): void;
}

/**
 * Sets up what ES-module imports of watched modules need. A loader hook is costly (on Node 20 a
 * second thread: ~80-120 ms of CPU and ~10 MB at start, half the agent's start-up), and most targets do
 * not need one: built-ins are patched as Node loads them (before an importing module runs) and their
 * ES-module exports synced, CommonJS packages are patched as the ES-module loader loads them
 * (hooks-load.ts). With `TRACING_IMPORT_HOOK=auto` (the default) the hook (import-in-the-middle, in the
 * thread when `module.registerHooks` is usable, else on the loader thread) is installed only for a
 * target that `import '<package>'` loads as ES-module code and that is installed in the app
 * (es-module-targets.ts), at start or when `registerInstrumentation()` adds one; where
 * `module.registerHooks` exists, also when the app resolves an ES-module file of a target's package (a
 * deep import such as `graphql/index.mjs`). Node 20 has no in-thread hook to notice that deep import, and
 * graphql 16 (`.mjs` twins, CommonJS for `import 'graphql'`) is too common to pay a thread for a rare
 * import there: `always` installs the hook at start, `never` installs none.
 */
export function hookImport(registry: InstrumentationRegistry, targets: readonly HookTarget[], mode: ImportHookMode = 'auto'): ImportHook {
  let hook: ImportHook | null = null;
  if (mode === 'always') {
    log.debug('TRACING_IMPORT_HOOK=always: the import hook is installed at start');
    hook = installImportHook(registry, targets);
    return hook;
  }
  const canWatch = typeof registerHooksApi() === 'function';
  // Where a resolve hook can notice a deep import of a target's ES-module files, count those files first:
  // when even then no installed target loads as ES-module code, no hook is needed now, nor later.
  let reachable: HookTarget | null = null;
  let needed: HookTarget | null = null;
  if (mode === 'auto') {
    reachable = canWatch ? firstEsModuleTarget(targets, { deepImports: true }) : null;
    needed = canWatch && reachable === null ? null : firstEsModuleTarget(targets, { deepImports: false });
  } else {
    log.debug('TRACING_IMPORT_HOOK=never: no import hook; ES-module code of instrumented packages loads untraced');
  }
  if (needed !== null) {
    log.debug(`${describe(needed)} loads as an ES module: the import hook is needed`);
    hook = installImportHook(registry, targets);
    return hook;
  }
  hookCommonJsImports(registry);
  // The resolve-only hook runs on every resolution of the app (~5 ms for a small express app on Node 24):
  // only where a deep import of an installed target's ES-module files may need the import hook later.
  // Built-ins are otherwise patched as they load (builtin-loads.ts), as on lines without the hook API.
  const watching = reachable !== null && watchBuiltinImports(registry, (url) => {
    if (hook !== null) return;
    log.debug(`${url} is an ES module of an instrumented package: the import hook is installed now, for the imports that follow`);
    hook = installImportHook(registry, registry.hookTargets());
  });
  if (!watching) patchBuiltinsAsLoaded(registry, targets);
  // A disabled instrumentation's wraps are undone: ES-module importers of built-ins see that too.
  registry.onDisable(() => loaderModule.syncBuiltinESMExports());
  return {
    get mode() {
      return hook === null ? 'lazy' : hook.mode;
    },
    add(added) {
      if (hook !== null) return hook.add(added);
      if (!watching) patchBuiltinsAsLoaded(registry, registry.hookTargets());
      if (mode === 'never') return Promise.resolve();
      // Without an in-thread resolve hook (Node 20) only a target whose plain import loads ES-module
      // code starts the hook, as at start.
      const later = firstEsModuleTarget(added, { deepImports: canWatch });
      if (later === null) return Promise.resolve();
      log.debug(`${describe(later)} loads as an ES module: the import hook is installed now, for the imports that follow`);
      hook = installImportHook(registry, registry.hookTargets());
      return Promise.resolve();
    },
  };
}

/**
 * An ES-module file (`.mjs`, or `format: module`) inside a package whose targeted files have ES-module
 * twins the import would reach next (graphql's `index.mjs` imports `execution/execute.mjs`). Not a package
 * whose ES-module entry only wraps its CommonJS code (pg's `esm/index.mjs`): that code is patched without
 * a hook. Answered once per package folder.
 */
function isEsModuleOfTarget(registry: InstrumentationRegistry, resolved: Resolved, answers: Map<string, boolean>): boolean {
  if (!registry.hasFileTargets() || !resolved.url.includes('/node_modules/')) return false;
  if (resolved.format !== 'module' && !resolved.url.endsWith('.mjs')) return false;
  const parts = splitPackagePath(fileURLToPath(resolved.url));
  if (parts === null) return false;
  let answer = answers.get(parts.basedir);
  if (answer === undefined) {
    const subpaths = registry.hookTargets().filter((t) => t.name === parts.name && t.subpath !== '').map((t) => t.subpath);
    answer = subpaths.length > 0 && hasEsModuleFileTarget(parts.basedir, subpaths);
    answers.set(parts.basedir, answer);
  }
  return answer;
}

function describe(t: HookTarget): string {
  return t.subpath ? `${t.name}/${t.subpath}` : t.name;
}

/**
 * `module.registerHooks` (Node 22.15+, 23.5+), which the public `node:module` built-in (lib/module.js) adds to the
 * loader's Module: that built-in is required for it only where it can exist, not on Node 20, where a CommonJS app
 * never loads it (module-info.ts, loaderModule).
 */
function registerHooksApi(): unknown {
  if (process.versions.node.startsWith('20.')) return undefined;
  return (require('node:module') as { registerHooks?: unknown }).registerHooks;
}

/**
 * Where `module.registerHooks` exists (Node 22.15+, 23.5+) and an installed target has ES-module files a
 * deep import could reach, a resolve-only hook of our own (~0.1 ms to install,
 * in-thread, no import-in-the-middle) patches a targeted built-in when the app first resolves it,
 * `import` and `require` alike, before Node builds its ES-module exports: `https` (and `tls` with it,
 * ~30 ms of CPU on Node 24) is loaded only by apps that use it. Returns false where the API is missing.
 */
function watchBuiltinImports(registry: InstrumentationRegistry, onEsModuleOfTarget: (url: string) => void): boolean {
  const registerHooks = registerHooksApi();
  if (typeof registerHooks !== 'function') return false;
  let patching = false;
  let hooked = false;
  const answers = new Map<string, boolean>();
  const resolve: ResolveHook = (specifier, context, next) => {
    const resolved = next(specifier, context);
    // A deep import of an instrumented package's ES-module build (`import 'graphql/index.mjs'`): the files
    // it imports next are the targets, so the import hook is started now, before they resolve.
    if (!hooked && resolved.url.startsWith('file:') && isEsModuleOfTarget(registry, resolved, answers)) {
      hooked = true;
      try {
        onEsModuleOfTarget(resolved.url);
      } catch (err) {
        log.debug(`could not start the import hook: ${describeError(err)}`);
      }
    }
    if (!patching && resolved.url.startsWith('node:')) {
      const name = resolved.url.slice(5);
      if (registry.hasTarget(name, '')) {
        // The require below resolves the built-in again.
        patching = true;
        try {
          patchBuiltins(registry, [{ name, subpath: '' }]);
        } finally {
          patching = false;
        }
      }
    }
    return resolved;
  };
  (registerHooks as (hooks: { resolve: ResolveHook }) => void)({ resolve });
  return true;
}

/**
 * Built-ins the instrumentations target are loaded and patched now, and their ES-module exports
 * synced: an ES-module `import { request } from 'node:http'` then reads the patched function with no
 * loader hook. Called again with every target when an instrumentation is registered later, since a
 * built-in already patched by another instrumentation is not a new target (patching is once per
 * instrumentation and module, so this is idempotent). On the OTLP exporter's path `http` and `https`
 * are loaded anyway.
 */
function patchBuiltins(registry: InstrumentationRegistry, targets: readonly HookTarget[]): void {
  let patched = false;
  for (const t of targets) {
    if (t.subpath !== '' || !loaderModule.isBuiltin(t.name)) continue;
    try {
      registry.onLoad(describeBuiltin(t.name), require(`node:${t.name}`));
      patched = true;
    } catch (err) {
      log.debug(`could not load ${t.name} to patch it: ${describeError(err)}`);
    }
  }
  if (patched) loaderModule.syncBuiltinESMExports();
}

/**
 * Without an in-thread resolve hook: the targeted built-ins already loaded are patched now, `http` and
 * `https` when Node loads them (builtin-loads.ts: an app that never uses them never loads them), any
 * other now.
 */
function patchBuiltinsAsLoaded(registry: InstrumentationRegistry, targets: readonly HookTarget[]): void {
  const asTargets = (names: readonly string[]): HookTarget[] => names.map((name) => ({ name, subpath: '' }));
  const names = targets.filter((t) => t.subpath === '' && loaderModule.isBuiltin(t.name)).map((t) => t.name);
  const now = patchNowOrOnLoad(names, (loaded) => patchBuiltins(registry, asTargets(loaded)));
  if (now.length > 0) patchBuiltins(registry, asTargets(now));
}

/** import-in-the-middle, in-thread where `module.registerHooks` is usable, else on the loader thread. */
function installImportHook(registry: InstrumentationRegistry, targets: readonly HookTarget[]): ImportHook {
  const iitm = require('import-in-the-middle') as { addHook(fn: IitmHookFn): void };
  // Namespaces whose named exports are copies of a plain module: refreshed again when a failing
  // instrumentation is disabled and its wraps undone, so named imports fall back to the originals too.
  const copies: Array<[Namespace, Namespace]> = [];
  iitm.addHook((url, namespace, specifier, format) => onImport(registry, copies, url, namespace, specifier, format));
  registry.onDisable(() => {
    for (const [namespace, plain] of copies) refreshNamedExports(namespace, plain);
    loaderModule.syncBuiltinESMExports();
  });

  const registerHooks = registerHooksApi();
  if (typeof registerHooks === 'function') {
    // Node lines that have module.registerHooks deprecate module.register (DEP0205 on 26). The synchronous
    // loader needs the nullish-CommonJS-source fix (22.22.3+, 24.11.1+, 25.1+, 26+); releases in between
    // fall through to module.register, which is not deprecated there.
    const sync = require('import-in-the-middle/register-hooks.mjs') as SyncHooksModule;
    if (sync.supportsSyncHooks()) {
      sync.register({ shouldInclude: (url, specifier) => wantsImport(registry, url, specifier) });
      (registerHooks as (hooks: { resolve: ResolveHook }) => void)({ resolve: keepBuiltinFormat });
      return { mode: 'sync', add: () => Promise.resolve() };
    }
  }
  const nodeModule = require('node:module') as typeof import('node:module');
  if (typeof nodeModule.register !== 'function') {
    log.warnOnce('hook:import', `this Node (${process.version}) cannot hook ES-module imports; only require() and CommonJS packages are traced`);
    hookCommonJsImports(registry);
    patchBuiltins(registry, targets);
    return { mode: 'none', add: () => Promise.resolve() };
  }
  // Built-ins are patched in this thread as Node loads them, their ES-module exports synced, as without the
  // hook: given them, import-in-the-middle loads each one again on the loader thread to read its exports
  // (http with net, stream...: ~48 M instructions and ~5 MB of peak RSS at a Node 20 app's start).
  patchBuiltinsAsLoaded(registry, targets);
  const offThread = registerOffThread(targets.filter((t) => !loaderModule.isBuiltin(t.name)));
  return {
    mode: offThread.mode,
    add(added) {
      patchBuiltinsAsLoaded(registry, registry.hookTargets());
      const packages = added.filter((t) => !loaderModule.isBuiltin(t.name));
      return packages.length > 0 ? offThread.add(packages) : Promise.resolve();
    },
  };
}

type Resolved = { url: string; format?: string | null };
type ResolveHook = (specifier: string, context: object, next: (specifier: string, context: object) => Resolved) => Resolved;

/**
 * import-in-the-middle's synchronous resolver takes a `require()` without a parent (code run by
 * `node -e` under `--require`) for the entry point and labels a built-in `commonjs`, which makes Node
 * read a file named `module` from disk. Registered after it, so it runs first and corrects the result.
 */
const keepBuiltinFormat: ResolveHook = (specifier, context, next) => {
  const resolved = next(specifier, context);
  return resolved.url.startsWith('node:') && resolved.format !== 'builtin' ? { ...resolved, format: 'builtin' } : resolved;
};

/** Synchronous path: decides per resolved module whether import-in-the-middle wraps it. */
function wantsImport(registry: InstrumentationRegistry, url: string, specifier: string): boolean {
  if (typeof specifier === 'string' && specifier !== '') {
    const asked = parseModuleKey(specifier);
    if (asked.subpath === '' && registry.hasTarget(asked.name, '')) return true;
  }
  if (url.startsWith('node:')) return registry.hasTarget(url.slice(5), '');
  if (!registry.hasFileTargets() || !url.startsWith('file:') || !url.includes('/node_modules/')) return false;
  const parts = splitPackagePath(fileURLToPath(url));
  return parts !== null && registry.hasTarget(parts.name, normalizeSubpath(parts.file));
}

/** What the off-thread loader's `include` option takes for a target. */
function includeEntry(target: HookTarget): string | RegExp {
  if (target.subpath === '') return target.name;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`/node_modules/${escape(target.name)}/${escape(target.subpath)}(/index)?(\\.[cm]?js)?$`);
}

/**
 * Asynchronous path (Node without usable `registerHooks`): import-in-the-middle's loader on the
 * loader thread, told what to include up front and, for later registrations, over a message port.
 */
function registerOffThread(targets: readonly HookTarget[]): ImportHook {
  // Required here: only this path needs a message port.
  const { MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const hookUrl = pathToFileURL(require.resolve('import-in-the-middle/hook.mjs')).href;
  (require('node:module') as typeof import('node:module')).register(hookUrl, {
    parentURL: pathToFileURL(__filename).href,
    data: { addHookMessagePort: port2, include: targets.map(includeEntry) },
    transferList: [port2],
  });
  const waiting: Array<() => void> = [];
  port1.on('message', () => {
    waiting.shift()?.();
    // Only an outstanding request may keep the process alive (a preload awaiting it would
    // otherwise exit with "unsettled top-level await"); idle, the port never holds the app open.
    if (waiting.length === 0) port1.unref();
  });
  port1.unref();
  return {
    mode: 'async',
    add(added) {
      // The loader's message channel takes plain names only: a file target added at run time is
      // matched when it is imported by its full specifier (`pkg/lib/file.js`).
      const names = added.map((t) => (t.subpath === '' ? t.name : `${t.name}/${t.subpath}`));
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        port1.ref();
        port1.postMessage(names);
      });
    },
  };
}

/**
 * Hands the registry the plain module and makes ES-module named imports see what it patched.
 * For CommonJS and built-ins the plain module is `default` (what `require` returns) and each named
 * export is a copy taken at import time, so the copies are refreshed; for ES-module-only packages
 * the plain module is the namespace itself, whose writes re-bind the live exports.
 */
function onImport(registry: InstrumentationRegistry, copies: Array<[Namespace, Namespace]>, url: string, namespace: Namespace, specifier: string | undefined, format: string | undefined): void {
  try {
    const mod = describeImported(url, specifier);
    if (mod === null || !registry.watches(mod.name)) return;
    const viaDefault = mod.builtin || format === 'commonjs' || format === 'builtin';
    const plain = viaDefault ? namespace.default : namespace;
    const result = registry.onLoad(mod, plain);
    if (!viaDefault || result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
    if (result !== plain) namespace.default = result;
    refreshNamedExports(namespace, result as Namespace);
    copies.push([namespace, result as Namespace]);
    if (mod.builtin) loaderModule.syncBuiltinESMExports();
  } catch (err) {
    log.warnOnce('hook:import', `internal error in the import hook, module left untouched: ${describeError(err)}`);
  }
}

function describeImported(url: string, specifier: string | undefined): LoadedModule | null {
  if (url.startsWith('node:')) return describeBuiltin(url);
  if (!url.startsWith('file:')) return null;
  const parts = splitPackagePath(fileURLToPath(url));
  if (parts === null) return null;
  const asked = specifier ? parseModuleKey(specifier) : null;
  const isEntry = asked !== null && asked.name === parts.name && asked.subpath === '';
  return { name: parts.name, subpath: isEntry ? '' : normalizeSubpath(parts.file), version: packageVersion(parts.basedir), builtin: false };
}

function refreshNamedExports(namespace: Namespace, source: Namespace): void {
  for (const key of Object.keys(namespace)) {
    if (key === 'default' || !(key in source)) continue;
    const value = source[key];
    if (namespace[key] !== value) namespace[key] = value;
  }
}
