import type { Sampler } from '../api/sampler.js';

// The decision reads the last 13 hex digits (52 bits) of the trace id: exact in a double, and
// those are the random part under W3C Trace Context level 2, so every service that uses the
// same rule and rate makes the same call for the same trace.
const DIGITS = 13;
const SPACE = 2 ** (DIGITS * 4);

/** Records a fixed share of traces, decided from the trace id alone. */
export class TraceIdRatioSampler implements Sampler {
  private readonly threshold: number;
  readonly ratio: number;

  constructor(ratio: number) {
    this.ratio = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
    this.threshold = Math.floor(this.ratio * SPACE);
  }

  shouldSample(_parent: unknown, traceId: string): boolean {
    if (this.ratio >= 1) return true;
    if (this.ratio <= 0) return false;
    return traceIdBucket(traceId) < this.threshold;
  }

  toString(): string {
    return `ratio(${this.ratio})`;
  }
}

/** The trace id's last 52 bits as a number in [0, 2^52); no allocation. Non-hex digits count as 0. */
export function traceIdBucket(traceId: string): number {
  let value = 0;
  const start = Math.max(0, traceId.length - DIGITS);
  for (let i = start; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : 0;
    value = value * 16 + digit;
  }
  return value;
}
