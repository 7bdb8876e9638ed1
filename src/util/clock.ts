// Span times are wall-clock milliseconds that never jump with NTP: a monotonic clock plus the wall-clock time at its
// zero, taken once at the first read; no Date object per call.
// The monotonic clock is process.hrtime() for a process's first EARLY_READS reads and perf_hooks' performance.now()
// after them. Loading perf_hooks (~10 internal modules) costs ~3.7 M instructions on Node 20, what a short process
// with a few spans (a test file, a CI step: issue 21) reads the clock ~15,000 times for by hrtime; a process that
// reads it more gets the cheaper read (performance.now() is a fast native call; hrtime builds an array: ~260
// instructions more per read on Node 20). Both read libuv's uv_hrtime, so they differ by a constant: the switch
// measures it once and keeps every read on the hrtime scale (see switchToPerformance).

/** Reads of the clock by hrtime before it loads perf_hooks. */
export const EARLY_READS = 1024;

let performance: { now(): number } | null = null;
// Wall-clock milliseconds at the monotonic clock's zero (process.hrtime's), set at the first read.
let anchor = 0;
// hrtime's milliseconds minus performance.now()'s, once switched. Added to performance.now() before the anchor
// (two additions per read, not a re-anchored sum): a sum near 1.8e12 rounds to ~0.24 µs, and a new anchor rounded
// down could make the first read after the switch earlier than the last one before it.
let offset = 0;
let earlyReads = 0;

/** Milliseconds since the Unix epoch, with sub-millisecond precision, from a monotonic clock. */
export function nowMs(): number {
  return performance !== null ? anchor + (offset + performance.now()) : earlyNowMs();
}

/**
 * `nowMs()` written to `into[at]`. A non-integer number returned from a call V8 does not inline is boxed
 * (a 16-byte heap number); written where it is made, it is not (a span's start: see api/span.ts). The early
 * reads return it boxed: they allocate hrtime's array anyway.
 */
export function nowInto(into: Float64Array, at: number): void {
  into[at] = performance !== null ? anchor + (offset + performance.now()) : earlyNowMs();
}

/** The milliseconds from `into[at]` to now (0 when the clock reads earlier) written to `into[at + 1]`; see `nowInto`. */
export function elapsedInto(into: Float64Array, at: number): void {
  const elapsed = (performance !== null ? anchor + (offset + performance.now()) : earlyNowMs()) - into[at]!;
  into[at + 1] = elapsed >= 0 ? elapsed : 0;
}

function earlyNowMs(): number {
  if (earlyReads >= EARLY_READS) return switchToPerformance();
  const t = hrMs();
  if (earlyReads++ === 0) anchor = Date.now() - t;
  return anchor + t;
}

function hrMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

/**
 * Moves the clock to performance.now(), returning a read. performance.now() is read before hrtime, so the offset
 * measured is at least the true one (by the few ns between the two reads): every later read is then at least what
 * hrtime would have read at that moment, and the clock never goes back across the switch.
 */
function switchToPerformance(): number {
  const p = (require('node:perf_hooks') as typeof import('node:perf_hooks')).performance;
  const before = p.now();
  offset = hrMs() - before;
  performance = p;
  return anchor + (offset + p.now());
}
