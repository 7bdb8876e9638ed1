/** Milliseconds since the epoch (fractional) → nanoseconds, exactly, as OTLP wants them. */
export function msToNanos(ms: number): bigint {
  const whole = Math.trunc(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** Milliseconds (fractional) → whole microseconds, as Zipkin wants them. */
export function msToMicros(ms: number): number {
  return Math.round(ms * 1000);
}
