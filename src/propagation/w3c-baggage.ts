import { createBaggage, getBaggageHeader, getBaggageProperties, setBaggageHeader, setBaggageProperties, SpanContext, type Baggage } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
import type { TextMapPropagator } from '../api/propagator.js';
import * as percent from './percent-encoding.js';
import { isBaggageOctet, percentDecode, percentEncode } from './percent-encoding.js';
import { isToken, isTokenChar, joinHeader, skipOws, trimOwsEnd } from './text.js';

const BAGGAGE = 'baggage';
const FIELDS = [BAGGAGE] as const;
/**
 * Our limits, the same on extraction and injection. The specification asks for at least 64 members
 * and 8,192 bytes; members beyond these are dropped whole, never cut.
 */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_BYTES = 8192;

/**
 * W3C Baggage: the `baggage` header, mapped onto span baggage items both ways, member properties
 * (`;k=v`) kept. Baggage is attached to the trace context an earlier format found; a `baggage`
 * header that arrives without any valid trace context is dropped (see docs/propagation.md).
 */
export class W3CBaggagePropagator implements TextMapPropagator {
  readonly baggageOnly = true;

  fields(): readonly string[] {
    return FIELDS;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const baggage = context.baggage;
    if (baggage === null) return;
    // Records are immutable and shared by every span of a trace: encode each one once.
    let header = getBaggageHeader(baggage);
    if (header === undefined) {
      header = serializeBaggage(baggage);
      setBaggageHeader(baggage, header);
    }
    if (header !== '') setter.set(carrier, BAGGAGE, header);
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    if (into === null) return null;
    const raw = getter.get(carrier, BAGGAGE);
    if (raw === undefined) return into;
    const items = parseBaggage(joinHeader(raw));
    if (items === null) return into;
    return withBaggage(into, items);
  }
}

/** `into` with `items` added (an item already present in `into` is replaced), properties included. */
export function withBaggage(into: SpanContext, items: Baggage): SpanContext {
  let baggage = items;
  if (into.baggage !== null) {
    const merged = createBaggage();
    Object.assign(merged, into.baggage, items);
    const before = getBaggageProperties(into.baggage);
    const added = getBaggageProperties(items);
    if (before !== undefined || added !== undefined) {
      const props: Record<string, string> = Object.create(null);
      if (before !== undefined) for (const k of Object.keys(before)) if (!(k in items)) props[k] = before[k]!;
      if (added !== undefined) Object.assign(props, added);
      setBaggageProperties(merged, props);
    }
    baggage = merged;
  }
  return into.withBaggage(baggage);
}

/**
 * Parses a `baggage` value into key → decoded value, keeping member properties; `null` when no
 * member is valid. Invalid members are skipped, a repeated key keeps its last value, and members
 * beyond our limits are dropped whole. Linear in the header's length; no regular expressions.
 */
export function parseBaggage(header: string): Baggage | null {
  const n = header.length;
  let items: Record<string, string> | null = null;
  let props: Record<string, string> | null = null;
  let members = 0;
  let bytes = 0;
  // Clean: the header is exactly what serializeBaggage would write for the result, so it can be reused.
  let clean = true;
  let pos = 0;
  for (;;) {
    let comma = header.indexOf(',', pos);
    if (comma === -1) comma = n;
    const from = skipOws(header, pos, comma);
    const to = trimOwsEnd(header, from, comma);
    if (from !== pos || to !== comma) clean = false;
    if (from !== to) {
      const memberBytes = to - from + (members === 0 ? 0 : 1);
      if (members >= MAX_BAGGAGE_MEMBERS || bytes + memberBytes > MAX_BAGGAGE_BYTES) clean = false;
      else if (parseMember(header, from, to)) {
        if (!member.clean) clean = false;
        items ??= createBaggage();
        const key = member.key;
        // An array search rather than `key in items`: property lookups by fresh strings cost more
        // than comparing a few short keys, and the member limit bounds the search.
        if (seenKeys.indexOf(key) !== -1) clean = false;
        else {
          seenKeys.push(key);
          members++;
          bytes += memberBytes;
        }
        items[key] = member.value;
        if (member.properties !== '') (props ??= Object.create(null) as Record<string, string>)[key] = member.properties;
        else if (props !== null) delete props[key];
      } else clean = false;
    }
    if (comma === n) break;
    pos = comma + 1;
  }
  seenKeys.length = 0;
  if (items === null) return null;
  if (props !== null) setBaggageProperties(items, props);
  if (clean) setBaggageHeader(items, header);
  return items;
}

/** Keys of the header being parsed. */
const seenKeys: string[] = [];

/** The member parsed last; parsing is synchronous, so one object serves every call. */
const member = { key: '', value: '', properties: '', clean: true };

/**
 * Parses `key OWS "=" OWS value *( OWS ";" OWS property )` from `s[from, to)` (trimmed) into
 * `member`; false when it breaks the grammar.
 */
function parseMember(s: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isTokenChar(s.charCodeAt(i))) i++;
  const keyEnd = i;
  if (keyEnd === from) return false;
  i = skipOws(s, i, to);
  if (i === to || s.charCodeAt(i) !== 0x3d) return false;
  let clean = i === keyEnd;
  const eq = i;
  const valueFrom = skipOws(s, eq + 1, to);
  if (valueFrom !== eq + 1) clean = false;
  let hasPercent = false;
  i = valueFrom;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isBaggageOctet(c)) break;
    if (c === 0x25) hasPercent = true;
  }
  const valueTo = i;
  let properties = '';
  if (valueTo !== to) {
    const semi = skipOws(s, valueTo, to);
    if (semi === to || s.charCodeAt(semi) !== 0x3b) return false;
    if (semi !== valueTo) clean = false;
    if (!validProperties(s, semi + 1, to)) return false;
    properties = s.slice(semi + 1, to);
  }
  member.key = s.slice(from, keyEnd);
  if (hasPercent) {
    member.value = percentDecode(s, valueFrom, valueTo);
    if (!percent.decodedCanonically) clean = false;
  } else member.value = s.slice(valueFrom, valueTo);
  member.properties = properties;
  member.clean = clean;
  return true;
}

/** Checks `property *( OWS ";" OWS property )`, where property = `key OWS "=" OWS value` or `key OWS`. */
function validProperties(s: string, from: number, to: number): boolean {
  let i = from;
  for (;;) {
    i = skipOws(s, i, to);
    const keyFrom = i;
    while (i < to && isTokenChar(s.charCodeAt(i))) i++;
    if (i === keyFrom) return false;
    i = skipOws(s, i, to);
    if (i < to && s.charCodeAt(i) === 0x3d) {
      i = skipOws(s, i + 1, to);
      while (i < to && isBaggageOctet(s.charCodeAt(i))) i++;
      i = skipOws(s, i, to);
    }
    if (i === to) return true;
    if (s.charCodeAt(i) !== 0x3b) return false;
    i++;
  }
}

/**
 * Writes baggage as a `baggage` value: keys that are not tokens cannot be written and are skipped;
 * members that would pass our limits are dropped whole.
 */
export function serializeBaggage(baggage: Baggage): string {
  const props = getBaggageProperties(baggage);
  let header = '';
  let members = 0;
  for (const key of Object.keys(baggage)) {
    const value = baggage[key];
    if (typeof value !== 'string' || !isToken(key)) continue;
    let m = key + '=' + percentEncode(value);
    const p = props === undefined ? undefined : props[key];
    if (p !== undefined) m += ';' + p;
    const nextLength = header.length + (members === 0 ? 0 : 1) + m.length;
    if (nextLength > MAX_BAGGAGE_BYTES || members >= MAX_BAGGAGE_MEMBERS) continue;
    header = members === 0 ? m : header + ',' + m;
    members++;
  }
  return header;
}
