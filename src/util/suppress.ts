import { AsyncLocalStorage } from 'node:async_hooks';

// Tracing must never trace itself: code of ours that makes requests runs them inside
// `suppressTracing` (or `suppressTracingSync`), and every instrumentation checks
// `isTracingSuppressed()` before it starts a span.
const suppressed = new AsyncLocalStorage<boolean>();
let syncDepth = 0;

/** Runs `fn` (and everything async it starts) with instrumentation switched off. */
export function suppressTracing<T>(fn: () => T): T {
  return suppressed.run(true, fn);
}

/**
 * Runs `fn` with instrumentation switched off for its synchronous part only. For the exporter,
 * whose requests already bypass our wrappers: it keeps the guard for anything patched that `fn`
 * calls synchronously, without switching on a second `AsyncLocalStorage` (on Node 20, each one
 * enabled costs every async resource of the app a propagation step).
 */
export function suppressTracingSync<T>(fn: () => T): T {
  syncDepth++;
  try {
    return fn();
  } finally {
    syncDepth--;
  }
}

/** True inside `suppressTracing` or `suppressTracingSync`. Cheap enough for every request. */
export function isTracingSuppressed(): boolean {
  return syncDepth > 0 || suppressed.getStore() === true;
}
