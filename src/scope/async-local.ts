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
      return runIn((keep ? LinkedScope.detached(current) : undefined) as LinkedScope, fn, undefined, NO_ARGS) as T;
    }
    return runIn(new LinkedScope(span, false, current, noop, this), fn, undefined, NO_ARGS) as T;
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
    let frame = linked.frame;
    if (frame === undefined || linked.frameBase !== prior) {
      frame = linked.frame = frames.make(contextStorage as AsyncLocalStorage<unknown>, linked);
      linked.frameBase = prior;
    }
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
      return runIn(scope, fn, this, args);
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
      return runIn(scope, fn, self, args ?? NO_ARGS) as T;
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
 * context-frame.ts): the scope's frame, switched to and back. For a new scope each call (`run`,
 * `bind`, a bridge's `run`); `callIn` keeps its frame on the scope instead.
 */
function runIn(scope: LinkedScope | undefined, fn: Function, self: unknown, args: ArrayLike<unknown>): unknown {
  if (frames === undefined) frames = learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>);
  if (frames === null) return callOnResource(scope, fn, self, args);
  if (contextStorage.getStore() === scope) return fn.apply(self, args);
  const frame = frames.make(contextStorage as AsyncLocalStorage<unknown>, scope);
  const prior = frames.current();
  frames.set(frame);
  try {
    return fn.apply(self, args);
  } finally {
    frames.set(prior);
  }
}

// Module-level so that `callIn` hands `storage.run` no fresh closure.
function applyWith(fn: Function, self: unknown, args: ArrayLike<unknown>): unknown {
  return fn.apply(self, args);
}
