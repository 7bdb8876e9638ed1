// perf_hooks (~10 internal modules) is required by the first timestamp, not at start. Anchored then,
// once: wall-clock time for span timestamps that never jumps backwards with NTP, and no Date object per call.
let performance: { now(): number } | null = null;
let anchor = 0;

/** Milliseconds since the Unix epoch, with sub-millisecond precision, from a monotonic clock. */
export function nowMs(): number {
  if (performance === null) {
    performance = (require('node:perf_hooks') as typeof import('node:perf_hooks')).performance;
    anchor = Date.now() - performance.now();
  }
  return anchor + performance.now();
}
