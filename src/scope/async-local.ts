import { copyNameAndLength } from '../util/function-shape.js';
import { AsyncLocalStorage, AsyncResource, executionAsyncResource } from 'node:async_hooks';
import type { Span } from '../api/span.js';
import type { Scope, ScopeManager } from '../api/scope-manager.js';
import { activeOf, firstOpen, LinkedScope } from './scope-manager.js';
import { learnFrameSwitch, learnResourceKey, type FrameSwitch } from './context-frame.js';

/**
 * The agent's one `AsyncLocalStorage`: the active scope of every `AsyncLocalScopeManager`, and
 * whether tracing is suppressed (`src/util/suppress.ts`), in one store. On Node 20 each enabled
 * storage costs every async resource of the app a propagation step, so there is only this one.
 * Managers share it and each sees only its own scopes (`activeOf`): two tracers stay apart.
 */
export const contextStorage = new AsyncLocalStorage<LinkedScope>();

/**
 * The default scope manager: the active span follows the flow of execution through `await`,
 * promises, timers, `setImmediate`, `process.nextTick` and callbacks, and two requests in flight
 * never see each other's span (each async path has its own store).
 */
export class AsyncLocalScopeManager implements ScopeManager {
  private readonly restore = (scope: LinkedScope): void => {
    // Only the flow that currently has this scope active goes back to the previous one; a scope
    // closed out of order elsewhere is skipped over by `active()` instead.
    if (contextStorage.getStore() === scope) contextStorage.enterWith(firstOpen(scope.previous) as LinkedScope);
  };

  active(): Scope | null {
    return activeOf(contextStorage.getStore(), this);
  }

  activate(span: Span, finishOnClose = true): Scope {
    const scope = new LinkedScope(span, finishOnClose, firstOpen(contextStorage.getStore()), this.restore, this);
    contextStorage.enterWith(scope);
    return scope;
  }

  run<T>(span: Span | null, fn: () => T): T {
    const current = firstOpen(contextStorage.getStore());
    if (span === null) {
      // No span active, but suppression (the agent's own work) and a bridge's attachment hold on.
      const keep = current !== null && (current.suppressed || current.attachment !== undefined);
      return runIn((keep ? LinkedScope.detached(current) : undefined) as LinkedScope, fn, undefined, NO_ARGS, true) as T;
    }
    return runIn(new LinkedScope(span, false, current, noop, this), fn, undefined, NO_ARGS, true) as T;
  }

  newScope(span: Span, root = false): Scope {
    return new LinkedScope(span, false, root ? null : firstOpen(contextStorage.getStore()), noop, this);
  }

  callIn<T>(scope: Scope, fn: (this: unknown, ...args: any[]) => T, self: unknown, args: ArrayLike<unknown>): T {
    if (frames === undefined) frames = learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>);
    if (frames === null) return callOnResource(scope as LinkedScope, fn, self, args) as T;
    const linked = scope as LinkedScope;
    // As `run` does: nothing to switch when the scope is already the store (an event emitted
    // synchronously inside the handler, whose own frame may hold more than the scope).
    if (contextStorage.getStore() === linked) return fn.apply(self, args as unknown[]);
    const prior = frames.current();
    const frame = frameOf(linked, prior);
    frames.set(frame);
    try {
      return fn.apply(self, args as unknown[]);
    } finally {
      frames.set(prior);
    }
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, span: Span): F {
    if (typeof fn !== 'function') return fn;
    const scope = new LinkedScope(span, false, null, noop, this);
    const bound = function (this: unknown, ...args: never[]): unknown {
      return runIn(scope, fn, this, args, false);
    };
    return copyNameAndLength(bound, fn) as unknown as F;
  }
}

function noop(): void {}

/** How `callIn` switches frames on this Node; undefined until its first call, null for `run` (see context-frame.ts). */
let frames: FrameSwitch | null | undefined;
/** Where there are no frames: the storage's key on async resources; undefined until needed, null for `run`. */
let resourceKey: symbol | null | undefined;

/**
 * `contextStorage.run(scope, ...)` without frames (Node 20): the scope set on the current async
 * resource under the storage's key and restored after, as `run` does, reading the resource once
 * (see `learnResourceKey`). Nothing to switch when the scope is already the store.
 */
function callOnResource(scope: LinkedScope | undefined, fn: Function, self: unknown, args: ArrayLike<unknown>): unknown {
  if (resourceKey === undefined) resourceKey = learnResourceKey(contextStorage as AsyncLocalStorage<unknown>);
  // `run` enables the storage each time; this path relies on it having been (`learnResourceKey`'s run did it).
  if (resourceKey === null || !(contextStorage as unknown as { enabled: boolean }).enabled) return contextStorage.run(scope as LinkedScope, applyWith, fn, self, args);
  const resource = executionAsyncResource() as unknown as Record<symbol, unknown>;
  const prior = resource[resourceKey];
  if (prior === scope) return fn.apply(self, args);
  resource[resourceKey] = scope;
  try {
    return fn.apply(self, args);
  } finally {
    resource[resourceKey] = prior;
  }
}

/**
 * For a bridge to another context API (the OpenTelemetry API's `context.with`/`context.active`):
 * keeps the bridge's own record beside the active span in the agent's one store, instead of an
 * `AsyncLocalStorage` of its own (on Node 20 each enabled storage costs every async resource of the
 * app a propagation step). Null when the tracer's scope manager is not an `AsyncLocalScopeManager`.
 */
export interface ScopeAttachments {
  /**
   * Runs `fn` (called on `self` with `args`, when given: no closure needed per call) with `span`
   * active (none when null) and `attachment` kept beside it, for everything `fn` starts.
   */
  run<T>(span: Span | null, attachment: object, fn: (this: unknown, ...args: any[]) => T, self?: unknown, args?: ArrayLike<unknown>): T;
  /** The attachment of the innermost `run` this code runs under; undefined outside any. */
  active(): object | undefined;
}

export function scopeAttachments(manager: ScopeManager): ScopeAttachments | null {
  if (!(manager instanceof AsyncLocalScopeManager)) return null;
  return {
    run<T>(span: Span | null, attachment: object, fn: (this: unknown, ...args: any[]) => T, self?: unknown, args?: ArrayLike<unknown>): T {
      const current = firstOpen(contextStorage.getStore());
      const scope = span === null ? LinkedScope.detached(current) : new LinkedScope(span, false, current, noop, manager);
      scope.attachment = attachment;
      return runIn(scope, fn, self, args ?? NO_ARGS, true) as T;
    },
    active(): object | undefined {
      const store = contextStorage.getStore();
      return store === undefined || store === null ? undefined : store.attachment;
    },
  };
}

const NO_ARGS: readonly unknown[] = [];

/**
 * An async resource outside every request, for the agent's own long-lived work (the exporter's timer,
 * immediates and sends): what runs in it (`runInAsyncScope`), and every timer, socket and promise that
 * starts, sees no active span, and keeps no request's store alive. Timers and sockets keep the context
 * they were made in (Node 20: the store copied onto the resource; Node 24: the frame), so one made
 * inside a request would hold that request's scope for as long as it lives and run its callbacks in
 * that trace. Made with the agent's store cleared, whatever is active now (the storage left as it is
 * when it holds nothing: `run` with the store already current does not enable it); the app's own
 * storages are empty too when it is made at start, outside any request.
 */
export function detachedResource(type: string): AsyncResource {
  return contextStorage.run(undefined as unknown as LinkedScope, makeResource, type);
}

function makeResource(type: string): AsyncResource {
  // Never destroyed by hand: it lives as long as its owner, and the GC's destroy hook is not wanted.
  return new AsyncResource(type, { requireManualDestroy: true });
}

/**
 * `contextStorage.run(scope, ...)` that builds one frame where Node 24's `run` builds two (see
 * context-frame.ts), switched to and back; none when the scope can be its own frame (`asFrame`): a
 * `fresh` scope, made for this call (`run`, a bridge's `run`). `bind`'s scope serves every call of the
 * bound function, from any context: a frame of its own each call, so that it holds none of them.
 */
function runIn(scope: LinkedScope | undefined, fn: Function, self: unknown, args: ArrayLike<unknown>, fresh: boolean): unknown {
  if (frames === undefined) frames = learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>);
  if (frames === null) return callOnResource(scope, fn, self, args);
  if (contextStorage.getStore() === scope) return fn.apply(self, args);
  const prior = frames.current();
  const frame = fresh && scope !== undefined && scopesAreFrames(frames) ? asFrame(scope, prior) : frames.make(contextStorage as AsyncLocalStorage<unknown>, scope);
  frames.set(frame);
  try {
    return fn.apply(self, args);
  } finally {
    frames.set(prior);
  }
}

/**
 * The frame `callIn` enters `scope` by from `prior`: the one kept on the scope when it was made from
 * `prior` too (a request's events, all emitted from its socket's context), else a new one, kept when
 * the scope is not a frame itself (a frame in use never changes base).
 */
function frameOf(scope: LinkedScope, prior: unknown): object {
  const kept = scope.frame;
  if (kept !== undefined && scope.frameBase === prior) return kept;
  if (kept === undefined && scopesAreFrames(frames!)) return asFrame(scope, prior);
  const made = frames!.make(contextStorage as AsyncLocalStorage<unknown>, scope);
  if (kept !== scope) {
    scope.frame = made;
    scope.frameBase = prior;
  }
  return made;
}

/**
 * The scope as the frame it runs in: what Node 24's `AsyncLocalStorage` reads of a frame is `has`,
 * `get` (`getStore`), iteration (a new frame copies the current one: the app's own storage's `run`)
 * and `disable`, and the scope answers them for the agent's storage itself and for every other one
 * from `base`, the frame it was entered from, as a copy of it would. A `Map` per request less (an
 * `AsyncContextFrame`, 32 bytes and its ~150-byte table, young for as long as the request is in
 * flight: issue 20's new space on Node 24). Once used, a scope's base never changes.
 */
function asFrame(scope: LinkedScope, base: unknown): object {
  scope.frame = scope;
  scope.frameBase = base;
  return scope;
}

type FrameLike = { has(key: unknown): boolean; get(key: unknown): unknown; [Symbol.iterator](): Iterator<[unknown, unknown]> };

function hasIn(this: LinkedScope, storage: unknown): boolean {
  if (storage === contextStorage) return true;
  const base = this.frameBase as FrameLike | undefined | null;
  return base !== undefined && base !== null && base.has(storage);
}

function getIn(this: LinkedScope, storage: unknown): unknown {
  if (storage === contextStorage) return this;
  const base = this.frameBase as FrameLike | undefined | null;
  return base === undefined || base === null ? undefined : base.get(storage);
}

function entriesOf(this: LinkedScope): Iterator<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = [];
  const base = this.frameBase as FrameLike | undefined | null;
  if (base !== undefined && base !== null) {
    for (const entry of base as Iterable<[unknown, unknown]>) if (entry[0] !== contextStorage) entries.push(entry);
  }
  entries.push([contextStorage, this]);
  return entries[Symbol.iterator]();
}

/** `storage.disable()`: Node's frame deletes the storage from itself; this one is shared, so the current frame becomes a copy without it. */
function disableIn(this: LinkedScope, storage: unknown): void {
  if (frames === undefined || frames === null || !hasIn.call(this, storage)) return;
  const copy = frames.make(storage as AsyncLocalStorage<unknown>, undefined) as Map<unknown, unknown>;
  copy.delete(storage);
  frames.set(copy);
}

for (const [name, value] of [['has', hasIn], ['get', getIn], ['disable', disableIn], [Symbol.iterator, entriesOf]] as const) {
  Object.defineProperty(LinkedScope.prototype, name, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Whether a scope works as a frame on this Node (`asFrame`): learnt once, end to end (the scope's
 * value and another storage's from its base through `getStore()`, both in a frame made inside it,
 * and the base back after). Null-safe: false when any part behaves otherwise.
 */
function scopesAreFrames(switcher: FrameSwitch): boolean {
  if (framesOfScopes !== undefined) return framesOfScopes;
  framesOfScopes = false;
  try {
    const other = new AsyncLocalStorage<unknown>();
    const probe = new LinkedScope(null as unknown as Span, false, null, noop, null);
    const third = new AsyncLocalStorage<unknown>();
    const works = other.run('base', () => {
      const prior = switcher.current();
      switcher.set(asFrame(probe, prior));
      try {
        if (contextStorage.getStore() !== probe || other.getStore() !== 'base') return false;
        return third.run('inner', () => contextStorage.getStore() === probe && other.getStore() === 'base' && third.getStore() === 'inner');
      } finally {
        switcher.set(prior);
      }
    });
    framesOfScopes = works === true && contextStorage.getStore() !== probe && other.getStore() === undefined;
  } catch {
    framesOfScopes = false;
  }
  return framesOfScopes;
}
let framesOfScopes: boolean | undefined;

// Module-level so that `callIn` hands `storage.run` no fresh closure.
function applyWith(fn: Function, self: unknown, args: ArrayLike<unknown>): unknown {
  return fn.apply(self, args);
}
