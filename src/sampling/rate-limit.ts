import type { SpanContext } from '../api/span-context.js';
import type { Tags } from '../api/span.js';
import type { Sampler } from '../api/sampler.js';
import { nowMs } from '../util/clock.js';

/**
 * Caps how many new traces per second `inner` may start (a token bucket holding one second's
 * worth). Only root decisions take a token: spans with a parent follow `inner`, so a trace that
 * was let in is recorded whole.
 */
export class RateLimitingSampler implements Sampler {
  private tokens: number;
  private lastRefill: number;

  constructor(
    private readonly inner: Sampler,
    readonly tracesPerSecond: number,
    // The span clock (monotonic; perf_hooks only once it is read often, ../util/clock.ts), not performance.now():
    // building this sampler at the tracer's start would otherwise load perf_hooks in every process that sets it.
    private readonly now: () => number = nowMs,
  ) {
    this.tokens = tracesPerSecond;
    this.lastRefill = now();
  }

  shouldSample(parent: SpanContext | null, traceId: string, name: string, tags: Readonly<Tags> | undefined): boolean {
    if (!this.inner.shouldSample(parent, traceId, name, tags)) return false;
    if (parent !== null) return true;
    const t = this.now();
    const elapsed = t - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.tracesPerSecond, this.tokens + (elapsed * this.tracesPerSecond) / 1000);
      this.lastRefill = t;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  toString(): string {
    return `rate_limited(${this.inner.toString()}, ${this.tracesPerSecond}/s)`;
  }
}
