import { FLAG_SAMPLED, SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
import type { TextMapPropagator } from '../api/propagator.js';
import { isNonZeroLowerHex, normaliseHexId, skipOws, trimOwsEnd } from './text.js';

const B3 = 'b3';
const TRACE_ID = 'x-b3-traceid';
const SPAN_ID = 'x-b3-spanid';
const PARENT_SPAN_ID = 'x-b3-parentspanid';
const SAMPLED = 'x-b3-sampled';
const FLAGS = 'x-b3-flags';

/**
 * `extra` marking a debug trace (B3 `d` / `X-B3-Flags: 1`, Jaeger flag 0x02); shared by every
 * context that has it, so marking costs no allocation. Debug implies sampled.
 */
export const DEBUG_EXTRA: Readonly<Record<string, string>> = Object.freeze({ debug: '1' });

/** True when `ctx` is sampled and was marked debug upstream. */
export function isDebug(ctx: SpanContext): boolean {
  return (ctx.traceFlags & FLAG_SAMPLED) !== 0 && ctx.extra !== null && ctx.extra.debug === '1';
}

/**
 * Zipkin's B3. Extraction reads the single `b3` header, else the `X-B3-*` headers, whichever way
 * `inject` writes. 64-bit trace ids are left-padded to 128 bits; `d`/`X-B3-Flags: 1` (debug) means
 * sampled; an absent sampling decision reads as not sampled. A `b3` header with only a sampling
 * decision and no ids carries no context and is ignored.
 */
export class B3Propagator implements TextMapPropagator {
  private readonly single: boolean;
  private readonly fieldNames: readonly string[];

  /** `single`: inject the one `b3` header (default) rather than the `X-B3-*` set. */
  constructor(options: { single?: boolean } = {}) {
    this.single = options.single !== false;
    this.fieldNames = this.single ? [B3] : [TRACE_ID, SPAN_ID, SAMPLED, FLAGS];
  }

  fields(): readonly string[] {
    return this.fieldNames;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const traceId = context.traceId;
    const spanId = context.spanId;
    if (traceId.length !== 32 || spanId.length !== 16 || !isNonZeroLowerHex(traceId, 0, 32) || !isNonZeroLowerHex(spanId, 0, 16)) return;
    const debug = isDebug(context);
    if (this.single) {
      setter.set(carrier, B3, traceId + '-' + spanId + (debug ? '-d' : context.sampled ? '-1' : '-0'));
      return;
    }
    setter.set(carrier, TRACE_ID, traceId);
    setter.set(carrier, SPAN_ID, spanId);
    // Debug implies an accept decision, so B3 says not to send X-B3-Sampled with it.
    if (debug) setter.set(carrier, FLAGS, '1');
    else setter.set(carrier, SAMPLED, context.sampled ? '1' : '0');
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    if (into !== null) return into;
    const single = getter.get(carrier, B3);
    if (single !== undefined) {
      const ctx = typeof single === 'string' ? parseB3Single(single) : null;
      if (ctx !== null) return ctx;
    }
    return extractMulti(carrier, getter);
  }
}

/** Parses `{trace id}-{span id}[-{sampling}[-{parent span id}]]`; null when invalid or ids are absent. */
export function parseB3Single(value: string): SpanContext | null {
  const start = skipOws(value, 0, value.length);
  const end = trimOwsEnd(value, start, value.length);
  const dash1 = value.indexOf('-', start);
  if (dash1 === -1 || dash1 >= end) return null;
  const traceLength = dash1 - start;
  if (traceLength !== 16 && traceLength !== 32) return null;
  const traceId = normaliseHexId(value, start, dash1, 32);
  if (traceId === null) return null;
  const spanFrom = dash1 + 1;
  if (spanFrom + 16 > end) return null;
  const spanId = normaliseHexId(value, spanFrom, spanFrom + 16, 16);
  if (spanId === null) return null;
  let flags = 0;
  let extra: Readonly<Record<string, string>> | null = null;
  let i = spanFrom + 16;
  if (i < end) {
    if (value.charCodeAt(i) !== 0x2d || i + 2 > end) return null;
    const state = value.charCodeAt(i + 1);
    if (state === 0x31) flags = FLAG_SAMPLED;
    else if (state === 0x64) {
      flags = FLAG_SAMPLED;
      extra = DEBUG_EXTRA;
    } else if (state !== 0x30) return null;
    i += 2;
    if (i < end) {
      // The parent span id is optional, but must be well formed when present.
      if (value.charCodeAt(i) !== 0x2d || end - i - 1 !== 16 || normaliseHexId(value, i + 1, end, 16) === null) return null;
    }
  }
  return SpanContext.remote(traceId, spanId, flags, '', extra);
}

function extractMulti(carrier: unknown, getter: CarrierGetter): SpanContext | null {
  const rawTrace = getter.get(carrier, TRACE_ID);
  if (typeof rawTrace !== 'string') return null;
  const rawSpan = getter.get(carrier, SPAN_ID);
  if (typeof rawSpan !== 'string') return null;
  const traceId = headerId(rawTrace, true);
  const spanId = traceId === null ? null : headerId(rawSpan, false);
  if (traceId === null || spanId === null) return null;
  const parent = getter.get(carrier, PARENT_SPAN_ID);
  if (parent !== undefined && (typeof parent !== 'string' || headerId(parent, false) === null)) return null;
  let flags = 0;
  let extra: Readonly<Record<string, string>> | null = null;
  const debug = getter.get(carrier, FLAGS);
  if (typeof debug === 'string' && trimmed(debug) === '1') {
    flags = FLAG_SAMPLED;
    extra = DEBUG_EXTRA;
  } else {
    const sampled = getter.get(carrier, SAMPLED);
    if (sampled !== undefined) {
      if (typeof sampled !== 'string') return null;
      const s = trimmed(sampled);
      // Tracers older than the B3 specification sent true/false; it asks readers to accept both.
      if (s === '1' || s === 'true') flags = FLAG_SAMPLED;
      else if (s !== '0' && s !== 'false') return null;
    }
  }
  return SpanContext.remote(traceId, spanId, flags, '', extra);
}

function trimmed(s: string): string {
  const from = skipOws(s, 0, s.length);
  const to = trimOwsEnd(s, from, s.length);
  return from === 0 && to === s.length ? s : s.slice(from, to);
}

/** A B3 trace id (16 or 32 hex digits) or span id (16), normalised; null when invalid. */
function headerId(raw: string, trace: boolean): string | null {
  const from = skipOws(raw, 0, raw.length);
  const to = trimOwsEnd(raw, from, raw.length);
  const length = to - from;
  if (trace ? length !== 16 && length !== 32 : length !== 16) return null;
  return normaliseHexId(raw, from, to, trace ? 32 : 16);
}
