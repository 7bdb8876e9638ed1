import { FLAG_SAMPLED, SpanContext } from '../api/span-context.js';
import { isLowerHex, isValidSpanId, isValidTraceId } from '../util/ids.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const FIELDS = [TRACEPARENT, TRACESTATE] as const;

/** W3C Trace Context: the `traceparent` and `tracestate` headers. */
export class W3CTraceContextPropagator implements TextMapPropagator {
  fields(): readonly string[] {
    return FIELDS;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    if (!isValidTraceId(context.traceId) || !isValidSpanId(context.spanId)) return;
    const flags = context.traceFlags & 0xff;
    setter.set(carrier, TRACEPARENT, `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`);
    if (context.traceState !== '') setter.set(carrier, TRACESTATE, context.traceState);
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    const raw = getter.get(carrier, TRACEPARENT);
    // Several traceparent headers cannot be told apart: the specification treats that as invalid.
    if (typeof raw !== 'string') return into;
    const parsed = parseTraceParent(raw);
    if (parsed === null) return into;
    const state = getter.get(carrier, TRACESTATE);
    const traceState = parseTraceState(state);
    return new SpanContext(parsed.traceId, parsed.spanId, parsed.flags, traceState, into?.baggage ?? null, true);
  }
}

interface TraceParent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** Parses a `traceparent` value; `null` when it is invalid. Linear, no regular expressions. */
export function parseTraceParent(value: string): TraceParent | null {
  const v = value.trim();
  if (v.length < 55) return null;
  const version = v.slice(0, 2);
  if (!isLowerHex(version) || version === 'ff') return null;
  if (version === '00' && v.length !== 55) return null;
  if (v.length > 55 && v.charCodeAt(55) !== 45 /* - */) return null;
  if (v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flagsHex = v.slice(53, 55);
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId) || !isLowerHex(flagsHex)) return null;
  let flags = parseInt(flagsHex, 16);
  // A future version may give other bits meanings we do not know; keep only sampled then.
  if (version !== '00') flags &= FLAG_SAMPLED;
  return { traceId, spanId, flags };
}

const MAX_TRACESTATE_ENTRIES = 32;

/**
 * Validates a `tracestate` value (or several headers, which are joined) and returns it
 * normalised (whitespace around entries removed, empty entries dropped); '' when invalid.
 */
export function parseTraceState(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  const joined = typeof value === 'string' ? value : value.join(',');
  if (joined.length === 0 || joined.length > 8192) return '';
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of joined.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) return '';
    const key = entry.slice(0, eq);
    const val = entry.slice(eq + 1);
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(val) || seen.has(key)) return '';
    seen.add(key);
    out.push(entry);
    if (out.length > MAX_TRACESTATE_ENTRIES) return '';
  }
  return out.join(',');
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 42 || c === 47;
}

export function isValidTraceStateKey(key: string): boolean {
  if (key.length === 0 || key.length > 256) return false;
  const at = key.indexOf('@');
  const tenant = at === -1 ? key : key.slice(0, at);
  const system = at === -1 ? '' : key.slice(at + 1);
  if (at !== -1) {
    if (tenant.length === 0 || tenant.length > 241 || system.length === 0 || system.length > 14) return false;
    const c0 = system.charCodeAt(0);
    if (!(c0 >= 97 && c0 <= 122)) return false;
    for (let i = 0; i < system.length; i++) if (!isKeyChar(system.charCodeAt(i))) return false;
    const t0 = tenant.charCodeAt(0);
    if (!((t0 >= 97 && t0 <= 122) || (t0 >= 48 && t0 <= 57))) return false;
  } else {
    const c0 = key.charCodeAt(0);
    if (!(c0 >= 97 && c0 <= 122)) return false;
  }
  for (let i = 0; i < tenant.length; i++) if (!isKeyChar(tenant.charCodeAt(i))) return false;
  return true;
}

export function isValidTraceStateValue(val: string): boolean {
  if (val.length === 0 || val.length > 256) return false;
  for (let i = 0; i < val.length; i++) {
    const c = val.charCodeAt(i);
    // chr = %x20 / nblk-chr, nblk-chr = %x21-2B / %x2D-3C / %x3E-7E; the last one may not be a space
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return val.charCodeAt(val.length - 1) !== 0x20;
}
