import type { IdPool } from '../util/ids.js';

/** Trace-flags bit for "sampled" in W3C Trace Context. */
export const FLAG_SAMPLED = 0x01;
/** Trace-flags bit for "random trace id" (W3C Trace Context Level 2). */
export const FLAG_RANDOM = 0x02;

/** Read-only baggage: key to value. */
export type Baggage = Readonly<Record<string, string>>;

/**
 * The object behind a baggage record: key → value own properties and nothing inherited (its
 * prototype is an empty object with a null prototype, so `__proto__` and `constructor` are plain
 * keys). Private fields, invisible to `Object.keys`, spread and `Object.assign`, carry the W3C
 * member properties and the header the record was read from, so they follow the record into every
 * child context that shares it, at the cost of a field read.
 */
class BaggageRecord {
  #properties: Readonly<Record<string, string>> | undefined = undefined;
  #header: string | undefined = undefined;

  static properties(b: object): Readonly<Record<string, string>> | undefined {
    return #properties in b ? (b as BaggageRecord).#properties : undefined;
  }

  static setProperties(b: object, props: Readonly<Record<string, string>>): boolean {
    if (!(#properties in b)) return false;
    (b as BaggageRecord).#properties = props;
    return true;
  }

  static header(b: object): string | undefined {
    return #header in b ? (b as BaggageRecord).#header : undefined;
  }

  static setHeader(b: object, header: string): void {
    if (#header in b) (b as BaggageRecord).#header = header;
  }
}
delete (BaggageRecord.prototype as { constructor?: unknown }).constructor;
Object.setPrototypeOf(BaggageRecord.prototype, null);

/** A new, empty, writable baggage record (fill it, then treat it as immutable). */
export function createBaggage(): Record<string, string> {
  return new BaggageRecord() as unknown as Record<string, string>;
}

/**
 * W3C Baggage member properties (the `;k=v;flag` text after a value), per key, as received, for
 * records made by `createBaggage` (other objects carry none).
 */
export function setBaggageProperties(baggage: Baggage, properties: Readonly<Record<string, string>>): void {
  BaggageRecord.setProperties(baggage, properties);
}

/** The member properties attached to a baggage record, if any. */
export function getBaggageProperties(baggage: Baggage): Readonly<Record<string, string>> | undefined {
  return BaggageRecord.properties(baggage);
}

/**
 * The `baggage` header text of a record, when one was stored: the record never changes, so a
 * header read or written once serves every later injection of it.
 */
export function getBaggageHeader(baggage: Baggage): string | undefined {
  return BaggageRecord.header(baggage);
}

/** Stores the header text for a record made by `createBaggage`. */
export function setBaggageHeader(baggage: Baggage, header: string): void {
  BaggageRecord.setHeader(baggage, header);
}

/** What a context carries on to its local children unchanged (see `SpanContext._carried`). */
class Carried {
  constructor(
    readonly traceState: string,
    readonly baggage: Baggage | null,
    readonly extra: Readonly<Record<string, string>> | null,
  ) {}
}

const NOTHING_CARRIED = new Carried('', null, null);

/**
 * What travels between spans and processes: trace id, span id, flags, vendor `tracestate`
 * and baggage. Immutable: baggage changes produce a new context.
 */
export class SpanContext {
  // Hex text of the ids; '' for an id generated here until it is first asked for (see `traceId`).
  private _traceHex: string;
  private _spanHex: string;
  /**
   * @internal Ids generated in this process are random bytes in an `IdPool` (block, offset): the
   * OTLP encoder copies them as they are, and hex is made only on demand. Null for ids read as text.
   */
  _tracePool: IdPool | null = null;
  /** @internal */
  _traceAt = 0;
  /** @internal */
  _spanPool: IdPool | null = null;
  /** @internal */
  _spanAt = 0;
  /** W3C trace-flags byte (bit 0: sampled, bit 1: random). */
  readonly traceFlags: number;
  /** True when this context was extracted from another process. */
  readonly isRemote: boolean;
  /**
   * @internal The trace state, baggage and extra fields, in one object a local child shares with its
   * parent (it carries them on unchanged): two fields a context less to allocate. `NOTHING_CARRIED` when
   * all three are empty.
   */
  _carried: Carried;

  constructor(
    traceId: string,
    spanId: string,
    traceFlags = FLAG_SAMPLED,
    traceState = '',
    baggage: Baggage | null = null,
    isRemote = false,
    extra: Readonly<Record<string, string>> | null = null,
  ) {
    this._traceHex = traceId;
    this._spanHex = spanId;
    this.traceFlags = traceFlags;
    this.isRemote = isRemote;
    this._carried = traceState === '' && baggage === null && extra === null ? NOTHING_CARRIED : new Carried(traceState, baggage, extra);
  }

  /** The W3C `tracestate` header value, passed on unchanged; empty when none. */
  get traceState(): string {
    return this._carried.traceState;
  }

  /** Baggage items; `null` when there are none, to save an allocation per span. */
  get baggage(): Baggage | null {
    return this._carried.baggage;
  }

  /**
   * Extra propagation fields some formats need to round-trip (e.g. B3's parent span id,
   * the debug flag, an original 64-bit trace id). Never exported.
   */
  get extra(): Readonly<Record<string, string>> | null {
    return this._carried.extra;
  }

  /**
   * A context read from another process (`isRemote`): what propagators' `extract` returns. `extra`
   * holds what a format needs to round-trip and never exports (B3's parent id, a debug flag).
   */
  static remote(
    traceId: string,
    spanId: string,
    traceFlags: number,
    traceState = '',
    extra: Readonly<Record<string, string>> | null = null,
    baggage: Baggage | null = null,
  ): SpanContext {
    return new SpanContext(traceId, spanId, traceFlags, traceState, baggage, true, extra);
  }

  /**
   * @internal A local span's context: a new span id from `spanPool` at `spanAt`, and the trace id of
   * `parent` (null: a new trace id from `tracePool` at `traceAt`).
   */
  static _local(parent: SpanContext | null, tracePool: IdPool | null, traceAt: number, spanPool: IdPool, spanAt: number, traceFlags: number): SpanContext {
    let ctx: SpanContext;
    if (parent === null) {
      ctx = new SpanContext('', '', traceFlags);
      ctx._tracePool = tracePool;
      ctx._traceAt = traceAt;
    } else {
      ctx = new SpanContext(parent._traceHex, '', traceFlags);
      ctx._carried = parent._carried;
      ctx._tracePool = parent._tracePool;
      ctx._traceAt = parent._traceAt;
    }
    ctx._spanPool = spanPool;
    ctx._spanAt = spanAt;
    return ctx;
  }

  /** 32 lower-case hex characters. */
  get traceId(): string {
    const hex = this._traceHex;
    if (hex !== '' || this._tracePool === null) return hex;
    return (this._traceHex = this._tracePool.hex(this._traceAt, 16));
  }

  /** 16 lower-case hex characters. */
  get spanId(): string {
    const hex = this._spanHex;
    if (hex !== '' || this._spanPool === null) return hex;
    return (this._spanHex = this._spanPool.hex(this._spanAt, 8));
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

  /** The W3C Baggage properties of one item (`a=1;b`), or undefined when it has none. */
  getBaggageItemProperties(key: string): string | undefined {
    const b = this.baggage;
    if (b === null) return undefined;
    const props = BaggageRecord.properties(b);
    return props === undefined ? undefined : props[key];
  }

  /**
   * A copy with one baggage item set (or removed, when `value` is undefined). Properties of the
   * other items are kept; the changed item loses its own, since they described the old value.
   */
  withBaggageItem(key: string, value: string | undefined): SpanContext {
    const next = createBaggage();
    if (this.baggage !== null) Object.assign(next, this.baggage);
    if (value === undefined) delete next[key];
    else next[key] = value;
    const props = this.baggage === null ? undefined : BaggageRecord.properties(this.baggage);
    if (props !== undefined) {
      const kept: Record<string, string> = Object.create(null);
      let any = false;
      for (const k of Object.keys(props)) {
        if (k !== key) {
          kept[k] = props[k]!;
          any = true;
        }
      }
      if (any) BaggageRecord.setProperties(next, kept);
    }
    return this.withBaggage(next);
  }

  /** A copy with `baggage` (a record made by `createBaggage`, or null) in place of this one's; ids unchanged. */
  withBaggage(baggage: Baggage | null): SpanContext {
    const carried = this._carried;
    const copy = new SpanContext(this._traceHex, this._spanHex, this.traceFlags, carried.traceState, baggage, this.isRemote, carried.extra);
    copy._tracePool = this._tracePool;
    copy._traceAt = this._traceAt;
    copy._spanPool = this._spanPool;
    copy._spanAt = this._spanAt;
    return copy;
  }
}
