import { copyNameAndLength } from '../util/function-shape.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Span } from '../api/span.js';
import type { Scope, ScopeManager } from '../api/scope-manager.js';
import { firstOpen, LinkedScope } from './scope-manager.js';

/**
 * The default scope manager: the active span follows the flow of execution through `await`,
 * promises, timers, `setImmediate`, `process.nextTick` and callbacks, and two requests in flight
 * never see each other's span (each async path has its own store).
 */
export class AsyncLocalScopeManager implements ScopeManager {
  private readonly storage = new AsyncLocalStorage<LinkedScope>();
  private readonly restore = (scope: LinkedScope): void => {
    // Only the flow that currently has this scope active goes back to the previous one; a scope
    // closed out of order elsewhere is skipped over by `active()` instead.
    if (this.storage.getStore() === scope) this.storage.enterWith(firstOpen(scope.previous) as LinkedScope);
  };

  active(): Scope | null {
    return firstOpen(this.storage.getStore());
  }

  activate(span: Span, finishOnClose = true): Scope {
    const scope = new LinkedScope(span, finishOnClose, firstOpen(this.storage.getStore()), this.restore);
    this.storage.enterWith(scope);
    return scope;
  }

  run<T>(span: Span | null, fn: () => T): T {
    if (span === null) return this.storage.run(undefined as unknown as LinkedScope, fn);
    return this.storage.run(new LinkedScope(span, false, firstOpen(this.storage.getStore()), noop), fn);
  }

  newScope(span: Span): Scope {
    return new LinkedScope(span, false, firstOpen(this.storage.getStore()), noop);
  }

  callIn<T>(scope: Scope, fn: (this: unknown, ...args: any[]) => T, self: unknown, args: ArrayLike<unknown>): T {
    // Already there (an event emitted synchronously inside the handler): no store switch at all.
    if (this.storage.getStore() === scope) return fn.apply(self, args as unknown[]);
    return this.storage.run(scope as LinkedScope, applyWith, fn, self, args) as T;
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, span: Span): F {
    if (typeof fn !== 'function') return fn;
    const storage = this.storage;
    const scope = new LinkedScope(span, false, null, noop);
    const bound = function (this: unknown, ...args: never[]): unknown {
      return storage.run(scope, () => fn.apply(this, args));
    };
    return copyNameAndLength(bound, fn) as unknown as F;
  }
}

function noop(): void {}

// Module-level so that `callIn` hands `storage.run` no fresh closure.
function applyWith(fn: Function, self: unknown, args: ArrayLike<unknown>): unknown {
  return fn.apply(self, args);
}
