import type { Span } from './span.js';

/**
 * A span made active for a stretch of code. Close it when that code is done; with
 * `finishOnClose` (the default) closing also finishes the span. Supports `using`.
 */
export interface Scope {
  readonly span: Span;
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Keeps the active span for the current flow of execution. The active span is the implicit
 * parent of new spans.
 */
export interface ScopeManager {
  /** The active scope, or `null` when no span is active. */
  active(): Scope | null;
  /** Makes `span` active until the returned scope is closed. */
  activate(span: Span, finishOnClose?: boolean): Scope;
  /** Returns a function that runs `fn` with `span` active, for callbacks that lose context. */
  bind<F extends (...args: never[]) => unknown>(fn: F, span: Span): F;
  /**
   * Runs `fn` with `span` active and returns what it returns; the span stays open. `null` runs `fn`
   * with no span active (new spans start new traces), as OpenTelemetry's `context.with(ROOT_CONTEXT)`.
   */
  run<T>(span: Span | null, fn: () => T): T;
  /**
   * A scope for `span` on top of the active one, not made active and never finishing the span: a
   * context to re-enter with `callIn` on every later tick that belongs to it (the events of a
   * request). Optional so that scope managers written before it keep compiling. With `root`, the
   * scope sits on top of nothing instead: it inherits nothing from the code that happens to be
   * running (a server request's scope, whose event fires in the context of whoever opened the
   * connection), and making it costs no read of the active scope.
   */
  newScope?(span: Span, root?: boolean): Scope;
  /**
   * Calls `fn` with `self` as `this` and `args` while `scope` (from `newScope`, or `active()` of this
   * manager) is the active scope, then restores the previous one. Allocates no closure, so it can
   * sit on a per-event path.
   */
  callIn?<T>(scope: Scope, fn: (this: unknown, ...args: any[]) => T, self: unknown, args: ArrayLike<unknown>): T;
}
