import { isHexRange } from '../util/hex.js';
import { createBaggage, FLAG_SAMPLED, SpanContext } from '../api/span-context.js';
import { DEBUG_EXTRA, isDebug } from './b3.js';
import type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
import { percentDecode, percentEncode } from './percent-encoding.js';
import type { TextMapPropagator } from '../api/propagator.js';
import { isNonZeroLowerHex, isToken, joinHeader, normaliseHexId, skipOws, trimOwsEnd } from './text.js';
import { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, withBaggage } from './w3c-baggage.js';

const TRACE_HEADER = 'uber-trace-id';
const BAGGAGE_PREFIX = 'uberctx-';
const FIELDS = [TRACE_HEADER] as const;
/** Jaeger's flag bits: 0x01 sampled, 0x02 debug. */
const JAEGER_DEBUG = 0x02;

/**
 * Jaeger's native format: `uber-trace-id: {trace}:{span}:{parent}:{flags}` (hex; ids may lack
 * leading zeros and are left-padded) and one `uberctx-{key}` header per baggage item
 * (percent-encoded). Header names are case-insensitive, so baggage keys read from HTTP arrive
 * lower-case. When an earlier format already found the context, Jaeger adds only its baggage.
 */
export class JaegerPropagator implements TextMapPropagator {
  fields(): readonly string[] {
    return FIELDS;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const traceId = context.traceId;
    const spanId = context.spanId;
    if (traceId.length !== 32 || spanId.length !== 16 || !isNonZeroLowerHex(traceId, 0, 32) || !isNonZeroLowerHex(spanId, 0, 16)) return;
    const flags = isDebug(context) ? '3' : context.sampled ? '1' : '0';
    // The parent field is deprecated in Jaeger and written as 0.
    setter.set(carrier, TRACE_HEADER, traceId + ':' + spanId + ':0:' + flags);
    const baggage = context.baggage;
    if (baggage === null) return;
    let members = 0;
    let bytes = 0;
    for (const key of Object.keys(baggage)) {
      const value = baggage[key];
      if (typeof value !== 'string' || !isToken(key)) continue;
      const encoded = percentEncode(value);
      // The same limits as W3C Baggage: whole items are dropped beyond them.
      if (members >= MAX_BAGGAGE_MEMBERS || bytes + key.length + encoded.length > MAX_BAGGAGE_BYTES) continue;
      members++;
      bytes += key.length + encoded.length;
      setter.set(carrier, BAGGAGE_PREFIX + key.toLowerCase(), encoded);
    }
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    let ctx = into;
    if (ctx === null) {
      const raw = getter.get(carrier, TRACE_HEADER);
      if (typeof raw !== 'string') return null;
      ctx = parseUberTraceId(raw);
      if (ctx === null) return null;
    }
    const items = extractJaegerBaggage(carrier, getter);
    return items === null ? ctx : withBaggage(ctx, items);
  }
}

/** Parses an `uber-trace-id` value (also URL-encoded, `%3A` for `:`); null when invalid. */
export function parseUberTraceId(raw: string): SpanContext | null {
  let value = raw;
  if (value.indexOf('%') !== -1) value = value.split('%3A').join(':').split('%3a').join(':');
  const start = skipOws(value, 0, value.length);
  const end = trimOwsEnd(value, start, value.length);
  const c1 = value.indexOf(':', start);
  const c2 = c1 === -1 ? -1 : value.indexOf(':', c1 + 1);
  const c3 = c2 === -1 ? -1 : value.indexOf(':', c2 + 1);
  if (c3 === -1 || c3 >= end || value.indexOf(':', c3 + 1) !== -1) return null;
  const traceId = normaliseHexId(value, start, c1, 32);
  const spanId = traceId === null ? null : normaliseHexId(value, c1 + 1, c2, 16);
  if (traceId === null || spanId === null) return null;
  // The parent may be 0 (a root, or simply not sent), so only its form is checked.
  if (!isHexOfLength(value, c2 + 1, c3, 16) || !isHexOfLength(value, c3 + 1, end, 2)) return null;
  const flags = Number.parseInt(value.slice(c3 + 1, end), 16);
  const sampled = (flags & FLAG_SAMPLED) !== 0 || (flags & JAEGER_DEBUG) !== 0;
  const debug = (flags & JAEGER_DEBUG) !== 0;
  return SpanContext.remote(traceId, spanId, sampled ? FLAG_SAMPLED : 0, '', debug ? DEBUG_EXTRA : null);
}

/** 1 to `maxLength` hex digits of either case. */
function isHexOfLength(s: string, from: number, to: number, maxLength: number): boolean {
  return to > from && to - from <= maxLength && isHexRange(s, from, to, false);
}

/** No `%` and nothing beyond ASCII: the value needs no decoding (decoding also turns lone surrogates into U+FFFD). */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || c > 0x7f) return false;
  }
  return true;
}

/** `uberctx-*` headers as baggage items, within the same limits as W3C Baggage; null when none. */
function extractJaegerBaggage(carrier: unknown, getter: CarrierGetter): Record<string, string> | null {
  let items: Record<string, string> | null = null;
  let members = 0;
  let bytes = 0;
  for (const name of getter.keys(carrier)) {
    if (name.length <= BAGGAGE_PREFIX.length || !name.startsWith(BAGGAGE_PREFIX)) continue;
    const raw = getter.get(carrier, name);
    if (raw === undefined) continue;
    const value = joinHeader(raw);
    const key = name.slice(BAGGAGE_PREFIX.length);
    if (members >= MAX_BAGGAGE_MEMBERS || bytes + key.length + value.length > MAX_BAGGAGE_BYTES) continue;
    items ??= createBaggage();
    if (!(key in items)) members++;
    bytes += key.length + value.length;
    items[key] = isPlainAscii(value) ? value : percentDecode(value, 0, value.length);
  }
  return items;
}
