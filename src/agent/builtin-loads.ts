import { describeError, log } from '../util/log.js';

/**
 * `http` and `https` patched when Node loads them, not at start, where Node has no in-thread resolve hook
 * (`module.registerHooks`: Node 20, 22.0 - 22.14, 23.0 - 23.4). Loading them at start cost every process
 * ~8 ms of CPU for `http` (with `net`) and ~6 ms more for `https` (with `tls`) on Node 20, also in scripts
 * that never use them.
 *
 * A `require()` of either, and `process.getBuiltinModule()`, are patched by the require hook as they return
 * (hooks-cjs.ts). What needs this file is the ES-module `import ... from 'node:https'`: Node builds the
 * module's ES exports from its exports object at load, and the importing module runs later, after the
 * loader's promises settle. A patch made in between, followed by `module.syncBuiltinESMExports()`, is what
 * the importer's bindings read. So each load is noticed as it happens and the patch queued as a microtask,
 * which runs before any module of that import graph is evaluated:
 * - the first of them to load (either one) loads `_http_client` and `_http_server`, which create their
 *   diagnostics channels with `diagnostics_channel.channel()` (the exports object the app also gets, read
 *   at each call): that call is watched until the first load is seen;
 * - `https` loaded after `http` is seen by its global agent: the https `Agent` constructor assigns
 *   `this._sessionCache`, which an accessor on `http.Agent.prototype` (set once `http` is loaded, removed
 *   at the first assignment) notices;
 * - `http` loaded after `https` costs almost nothing (`https` loads its internals), so it is loaded and
 *   patched with it.
 * Where the watch cannot be set up (no `process.moduleLoadList`), both are patched at start, as before.
 */

const DEFERRABLE = new Set(['http', 'https']);
type Patch = (names: readonly string[]) => void;
type ChannelFn = (name: string | symbol) => unknown;

const waiting = new Set<string>();
let patch: Patch | null = null;
let channelWatch: { exports: { channel: ChannelFn }; original: ChannelFn; wrapper: ChannelFn } | null = null;
let agentWatch: { proto: object } | null = null;
let settleQueued = false;

/**
 * Of the built-in targets `names`, those to patch now; `http` and `https`, when not loaded yet and their
 * loads can be watched, are left to `patchNames`, called with them once Node has loaded them.
 */
export function patchNowOrOnLoad(names: readonly string[], patchNames: Patch): string[] {
  const now: string[] = [];
  for (const name of names) {
    if (!DEFERRABLE.has(name) || loaded(name) || !canWatch()) now.push(name);
    else waiting.add(name);
  }
  if (waiting.size > 0) {
    patch = patchNames;
    watchChannelCalls();
    // A load that happened between the check above and now (none can: all of this is synchronous) or one
    // of http's internals loaded before the agent: settled on the next microtask.
    if (loaded('_http_agent')) queueSettle();
  }
  return now;
}

/** The built-ins still waiting for their load (for tests and the debug line). */
export function builtinsWaitingForLoad(): string[] {
  return [...waiting];
}

function canWatch(): boolean {
  return Array.isArray((process as { moduleLoadList?: unknown }).moduleLoadList) && typeof queueMicrotask === 'function';
}

/** Node records a built-in in `process.moduleLoadList` once it has finished loading. */
function loaded(name: string): boolean {
  return (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(`NativeModule ${name}`);
}

function watchChannelCalls(): void {
  if (channelWatch !== null) return;
  const exports = require('node:diagnostics_channel') as { channel: ChannelFn };
  const original = exports.channel;
  if (typeof original !== 'function') return;
  const wrapper = function channel(this: unknown, name: string | symbol): unknown {
    if (!settleQueued && typeof name === 'string' && name.startsWith('http.')) queueSettle();
    return original.apply(this, arguments as unknown as [string]);
  };
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  exports.channel = wrapper;
  channelWatch = { exports, original, wrapper };
}

function unwatchChannelCalls(): void {
  if (channelWatch === null) return;
  // Someone else may have wrapped it since: theirs is left in place (ours then only forwards).
  if (channelWatch.exports.channel === channelWatch.wrapper) channelWatch.exports.channel = channelWatch.original;
  channelWatch = null;
}

/** https's global agent, built when https loads, assigns `_sessionCache` through `http.Agent.prototype`. */
function watchHttpsAgent(): void {
  if (agentWatch !== null) return;
  const proto = (require('node:http') as typeof import('node:http')).Agent.prototype as object;
  if (Object.prototype.hasOwnProperty.call(proto, '_sessionCache')) return;
  Object.defineProperty(proto, '_sessionCache', {
    configurable: true,
    enumerable: false,
    get: undefined,
    set(this: object, value: unknown) {
      // What the assignment would have done without the accessor: an own, plain property.
      Object.defineProperty(this, '_sessionCache', { value, writable: true, enumerable: true, configurable: true });
      unwatchHttpsAgent();
      queueSettle();
    },
  });
  agentWatch = { proto };
}

function unwatchHttpsAgent(): void {
  if (agentWatch === null) return;
  delete (agentWatch.proto as { _sessionCache?: unknown })._sessionCache;
  agentWatch = null;
}

function queueSettle(): void {
  if (settleQueued) return;
  settleQueued = true;
  queueMicrotask(settle);
}

/** Patches what has loaded since; runs as a microtask, never throws. */
function settle(): void {
  settleQueued = false;
  try {
    const httpsLoaded = loaded('https');
    const names: string[] = [];
    // After https, http costs a file of its own only: patched with it.
    if (waiting.has('http') && (loaded('http') || httpsLoaded)) names.push('http');
    if (waiting.has('https') && httpsLoaded) names.push('https');
    for (const name of names) waiting.delete(name);
    if (waiting.size === 0) {
      unwatchChannelCalls();
      unwatchHttpsAgent();
    } else if (waiting.has('https') && loaded('http') && !waiting.has('http')) {
      // http is in: its internals create no channel again, https's agent is what tells its load.
      unwatchChannelCalls();
      watchHttpsAgent();
    }
    if (names.length > 0 && patch !== null) patch(names);
  } catch (err) {
    log.debug(`could not patch a built-in on its load: ${describeError(err)}`);
  }
}
