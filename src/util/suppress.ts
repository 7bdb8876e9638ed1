import { contextStorage } from '../scope/async-local.js';
import { firstOpen, LinkedScope } from '../scope/scope-manager.js';

// Tracing must never trace itself: code of ours that makes requests runs them inside
// `suppressTracing` (or `suppressTracingSync`), and every instrumentation checks
// `isTracingSuppressed()` before it starts a span. The flag lives in the scope manager's store (a
// mark on top of the active scope), not in an `AsyncLocalStorage` of its own: on Node 20 every
// enabled storage costs each async resource of the app a propagation step.
let syncDepth = 0;
// Until the first `suppressTracing`, no store can carry the flag: the check skips the store read.
let marksMade = false;

/** Runs `fn` (and everything async it starts) with instrumentation switched off; the active span stays. */
export function suppressTracing<T>(fn: () => T): T {
  const current = firstOpen(contextStorage.getStore());
  if (current !== null && current.suppressed) return fn();
  marksMade = true;
  return contextStorage.run(LinkedScope.suppression(current), fn);
}

/**
 * Runs `fn` with instrumentation switched off for its synchronous part only. For the exporter,
 * whose requests already bypass our wrappers: it keeps the guard for anything patched that `fn`
 * calls synchronously, without entering the store at all.
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
  if (syncDepth > 0) return true;
  if (!marksMade) return false;
  const store = contextStorage.getStore();
  return store !== undefined && store !== null && store.suppressed;
}
