import type { Span } from '../api/span.js';
import { copyNameAndLength } from '../util/function-shape.js';
import type { Scope, ScopeManager } from '../api/scope-manager.js';
import { firstOpen, LinkedScope } from './scope-manager.js';

/**
 * A scope manager for synchronous code only: one stack per process. Cheaper than
 * `AsyncLocalScopeManager`, but the active span does not follow `await` or callbacks.
 */
export class StackScopeManager implements ScopeManager {
  private current: LinkedScope | null = null;
  private readonly restore = (scope: LinkedScope): void => {
    if (this.current === scope) this.current = firstOpen(scope.previous);
  };

  active(): Scope | null {
    return firstOpen(this.current);
  }

  activate(span: Span, finishOnClose = true): Scope {
    const scope = new LinkedScope(span, finishOnClose, firstOpen(this.current), this.restore);
    this.current = scope;
    return scope;
  }

  run<T>(span: Span | null, fn: () => T): T {
    if (span === null) {
      const saved = this.current;
      this.current = null;
      try {
        return fn();
      } finally {
        this.current = saved;
      }
    }
    const scope = this.activate(span, false);
    try {
      return fn();
    } finally {
      scope.close();
    }
  }

  newScope(span: Span, root = false): Scope {
    return new LinkedScope(span, false, root ? null : firstOpen(this.current), noop);
  }

  callIn<T>(scope: Scope, fn: (this: unknown, ...args: any[]) => T, self: unknown, args: ArrayLike<unknown>): T {
    const previous = this.current;
    this.current = scope as LinkedScope;
    try {
      return fn.apply(self, args as unknown[]);
    } finally {
      this.current = previous;
    }
  }

  bind<F extends (...args: never[]) => unknown>(fn: F, span: Span): F {
    if (typeof fn !== 'function') return fn;
    const manager = this;
    const bound = function (this: unknown, ...args: never[]): unknown {
      return manager.run(span, () => fn.apply(this, args));
    };
    return copyNameAndLength(bound, fn) as unknown as F;
  }
}

function noop(): void {}
