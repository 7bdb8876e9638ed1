/** Trace-flags bit for "sampled" in W3C Trace Context. */
export const FLAG_SAMPLED = 0x01;
/** Trace-flags bit for "random trace id" (W3C Trace Context Level 2). */
export const FLAG_RANDOM = 0x02;

/** Read-only baggage: key to value. */
export type Baggage = Readonly<Record<string, string>>;

/**
 * What travels between spans and processes: trace id, span id, flags, vendor `tracestate`
 * and baggage. Immutable: baggage changes produce a new context.
 */
export class SpanContext {
  /** 32 lower-case hex characters. */
  readonly traceId: string;
  /** 16 lower-case hex characters. */
  readonly spanId: string;
  /** W3C trace-flags byte (bit 0: sampled, bit 1: random). */
  readonly traceFlags: number;
  /** The W3C `tracestate` header value, passed on unchanged; empty when none. */
  readonly traceState: string;
  /** Baggage items; `null` when there are none, to save an allocation per span. */
  readonly baggage: Baggage | null;
  /** True when this context was extracted from another process. */
  readonly isRemote: boolean;
  /**
   * Extra propagation fields some formats need to round-trip (e.g. B3's parent span id,
   * the debug flag, an original 64-bit trace id). Never exported.
   */
  readonly extra: Readonly<Record<string, string>> | null;

  constructor(
    traceId: string,
    spanId: string,
    traceFlags = FLAG_SAMPLED,
    traceState = '',
    baggage: Baggage | null = null,
    isRemote = false,
    extra: Readonly<Record<string, string>> | null = null,
  ) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.traceFlags = traceFlags;
    this.traceState = traceState;
    this.baggage = baggage;
    this.isRemote = isRemote;
    this.extra = extra;
  }

  /** The trace id as 32 lower-case hex characters (OpenTracing API). */
  toTraceId(): string {
    return this.traceId;
  }

  /** The span id as 16 lower-case hex characters (OpenTracing API). */
  toSpanId(): string {
    return this.spanId;
  }

  /** Whether spans of this trace are recorded and exported. */
  get sampled(): boolean {
    return (this.traceFlags & FLAG_SAMPLED) !== 0;
  }

  getBaggageItem(key: string): string | undefined {
    const b = this.baggage;
    return b === null ? undefined : b[key];
  }

  /** A copy with one baggage item set (or removed, when `value` is undefined). */
  withBaggageItem(key: string, value: string | undefined): SpanContext {
    const next: Record<string, string> = Object.create(null);
    if (this.baggage !== null) Object.assign(next, this.baggage);
    if (value === undefined) delete next[key];
    else next[key] = value;
    return new SpanContext(this.traceId, this.spanId, this.traceFlags, this.traceState, next, this.isRemote, this.extra);
  }
}
