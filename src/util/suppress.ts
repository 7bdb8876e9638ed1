import { AsyncLocalStorage } from 'node:async_hooks';

// Tracing must never trace itself: the exporter runs its requests inside `suppressTracing`,
// and every instrumentation checks `isTracingSuppressed()` before it starts a span.
const suppressed = new AsyncLocalStorage<boolean>();

/** Runs `fn` (and everything async it starts) with instrumentation switched off. */
export function suppressTracing<T>(fn: () => T): T {
  return suppressed.run(true, fn);
}

/** True inside `suppressTracing`. Cheap enough for every request. */
export function isTracingSuppressed(): boolean {
  return suppressed.getStore() === true;
}
