// perf_hooks (~10 internal modules) is required by the first timestamp, not at start. Anchored then,
// once: wall-clock time for span timestamps that never jumps backwards with NTP, and no Date object per call.
let performance: { now(): number } | null = null;
let anchor = 0;

/** Milliseconds since the Unix epoch, with sub-millisecond precision, from a monotonic clock. */
export function nowMs(): number {
  if (performance === null) anchorClock();
  return anchor + performance!.now();
}

function anchorClock(): void {
  performance = (require('node:perf_hooks') as typeof import('node:perf_hooks')).performance;
  anchor = Date.now() - performance.now();
}

/**
 * `nowMs()` written to `into[at]`. A non-integer number returned from a call V8 does not inline is boxed
 * (a 16-byte heap number); written where it is made, it is not (a span's start: see api/span.ts).
 */
export function nowInto(into: Float64Array, at: number): void {
  if (performance === null) anchorClock();
  into[at] = anchor + performance!.now();
}

/** The milliseconds from `into[at]` to now (0 when the clock reads earlier) written to `into[at + 1]`; see `nowInto`. */
export function elapsedInto(into: Float64Array, at: number): void {
  if (performance === null) anchorClock();
  const elapsed = anchor + performance!.now() - into[at]!;
  into[at + 1] = elapsed >= 0 ? elapsed : 0;
}
