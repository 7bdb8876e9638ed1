import { performance } from 'node:perf_hooks';

// Anchored once: wall-clock time for span timestamps that never jumps backwards with NTP,
// and no Date object per call.
const anchor = Date.now() - performance.now();

/** Milliseconds since the Unix epoch, with sub-millisecond precision, from a monotonic clock. */
export function nowMs(): number {
  return anchor + performance.now();
}
