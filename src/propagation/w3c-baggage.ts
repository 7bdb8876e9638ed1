import { SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';

const BAGGAGE = 'baggage';
const FIELDS = [BAGGAGE] as const;
/** Limits from the W3C Baggage specification: we accept at least these, and write at most these. */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_BYTES = 8192;

/** W3C Baggage: the `baggage` header, mapped onto span baggage items both ways. */
export class W3CBaggagePropagator implements TextMapPropagator {
  fields(): readonly string[] {
    return FIELDS;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const baggage = context.baggage;
    if (baggage === null) return;
    let header = '';
    let members = 0;
    for (const key of Object.keys(baggage)) {
      if (!isToken(key)) continue;
      const member = `${key}=${encodeURIComponent(baggage[key]!)}`;
      const nextLength = header.length + (header === '' ? 0 : 1) + member.length;
      // Whole members only: a member that does not fit is dropped, never cut.
      if (nextLength > MAX_BAGGAGE_BYTES || members >= MAX_BAGGAGE_MEMBERS) continue;
      header = header === '' ? member : `${header},${member}`;
      members++;
    }
    if (header !== '') setter.set(carrier, BAGGAGE, header);
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    const raw = getter.get(carrier, BAGGAGE);
    if (raw === undefined) return into;
    const items = parseBaggage(typeof raw === 'string' ? raw : raw.join(','));
    if (items === null || into === null) return into;
    const merged: Record<string, string> = Object.create(null);
    if (into.baggage !== null) Object.assign(merged, into.baggage);
    Object.assign(merged, items);
    return new SpanContext(into.traceId, into.spanId, into.traceFlags, into.traceState, merged, into.isRemote, into.extra);
  }
}

/** Parses a `baggage` value into key → decoded value; invalid members are skipped. */
export function parseBaggage(header: string): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  let members = 0;
  let bytes = 0;
  for (const part of header.split(',')) {
    const member = part.trim();
    if (member === '') continue;
    bytes += member.length + 1;
    if (members >= MAX_BAGGAGE_MEMBERS || bytes > MAX_BAGGAGE_BYTES + 1) break;
    const semi = member.indexOf(';');
    const kv = semi === -1 ? member : member.slice(0, semi);
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const key = kv.slice(0, eq).trim();
    if (!isToken(key)) continue;
    let value: string;
    try {
      value = decodeURIComponent(kv.slice(eq + 1).trim());
    } catch {
      continue;
    }
    (out ??= Object.create(null) as Record<string, string>)[key] = value;
    members++;
  }
  return out;
}

/** RFC 7230 token characters, checked by a loop (linear time). */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || '"(),/:;<=>?@[\\]{}'.indexOf(s[i]!) !== -1) return false;
  }
  return true;
}
