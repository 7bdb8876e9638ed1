import { SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
import type { TextMapPropagator } from '../api/propagator.js';
import { isNonZeroLowerHex, joinHeader, lowerHexValue, skipOws, trimOwsEnd } from './text.js';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const FIELDS = [TRACEPARENT, TRACESTATE] as const;

/**
 * The trace-flags bits version 00 defines: sampled (0x01) and random trace id (0x02).
 * The specification says vendors MUST set every other bit to zero.
 */
export const KNOWN_FLAGS = 0x03;
/** The length of a version 00 `traceparent`. */
const TRACEPARENT_LENGTH = 55;
/** At most this many `tracestate` list-members; a header with more is discarded whole. */
export const MAX_TRACESTATE_MEMBERS = 32;
/** Keys and values are at most this long. */
const MAX_KEY_LENGTH = 256;
const MAX_VALUE_LENGTH = 256;
/** We write at most this many `tracestate` characters (the length the specification asks vendors to carry). */
export const MAX_TRACESTATE_INJECT_LENGTH = 512;
/** When truncating, entries longer than this go first. */
const LARGE_ENTRY = 128;
/**
 * The flags field as written, by `flags & KNOWN_FLAGS`. Literals: V8 keeps them with the compiled code, in the old
 * generation, where a table made at load (256 strings) was ~5 KB of young objects every process kept.
 */
const FLAGS_HEX: readonly string[] = ['00', '01', '02', '03'];

/** W3C Trace Context Level 2: the `traceparent` and `tracestate` headers. */
export class W3CTraceContextPropagator implements TextMapPropagator {
  fields(): readonly string[] {
    return FIELDS;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const traceId = context.traceId;
    const spanId = context.spanId;
    if (traceId.length !== 32 || spanId.length !== 16) return;
    // An id cut from an IdPool is valid by construction (hex of non-zero random bytes): only ids
    // that came as text (a context built by hand) are checked, character by character.
    if ((context._tracePool === null && !isNonZeroLowerHex(traceId, 0, 32)) || (context._spanPool === null && !isNonZeroLowerHex(spanId, 0, 16))) return;
    // Always version 00, the highest we know, even when the parent sent a higher one.
    setter.set(carrier, TRACEPARENT, '00-' + traceId + '-' + spanId + '-' + FLAGS_HEX[context.traceFlags & KNOWN_FLAGS]);
    const state = context.traceState;
    if (state !== '') {
      const out = state.length <= MAX_TRACESTATE_INJECT_LENGTH ? state : truncateTraceState(state, MAX_TRACESTATE_INJECT_LENGTH);
      if (out !== '') setter.set(carrier, TRACESTATE, out);
    }
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    // First valid context wins: an earlier format already found one.
    if (into !== null) return into;
    const raw = getter.get(carrier, TRACEPARENT);
    // Repeated traceparent headers cannot be told apart: the specification treats them as invalid.
    if (typeof raw !== 'string') return null;
    return parseTraceParent(raw, getter.get(carrier, TRACESTATE));
  }
}

/**
 * Parses a `traceparent` value (and, only when it is valid, the `tracestate` that came with it)
 * into a remote context; `null` when the parent is invalid, so the trace restarts and its
 * `tracestate` is dropped with it. Linear, no regular expressions.
 */
export function parseTraceParent(value: string, traceState?: string | readonly string[]): SpanContext | null {
  // Surrounding OWS is not part of an HTTP field value.
  const start = skipOws(value, 0, value.length);
  const end = trimOwsEnd(value, start, value.length);
  const length = end - start;
  if (length < TRACEPARENT_LENGTH) return null;
  const v0 = lowerHexValue(value.charCodeAt(start));
  const v1 = lowerHexValue(value.charCodeAt(start + 1));
  if (v0 < 0 || v1 < 0) return null;
  const version = v0 * 16 + v1;
  if (version === 0xff) return null;
  if (version === 0 && length !== TRACEPARENT_LENGTH) return null;
  // A higher version is read by its first four fields, which must end at the string's end or a dash.
  if (length > TRACEPARENT_LENGTH && value.charCodeAt(start + TRACEPARENT_LENGTH) !== 0x2d) return null;
  if (value.charCodeAt(start + 2) !== 0x2d || value.charCodeAt(start + 35) !== 0x2d || value.charCodeAt(start + 52) !== 0x2d) return null;
  if (!isNonZeroLowerHex(value, start + 3, 32) || !isNonZeroLowerHex(value, start + 36, 16)) return null;
  const f0 = lowerHexValue(value.charCodeAt(start + 53));
  const f1 = lowerHexValue(value.charCodeAt(start + 54));
  if (f0 < 0 || f1 < 0) return null;
  const flags = (f0 * 16 + f1) & KNOWN_FLAGS;
  const state = traceState === undefined ? '' : parseTraceState(traceState);
  return SpanContext.remote(value.slice(start + 3, start + 35), value.slice(start + 36, start + 52), flags, state);
}

/**
 * Start, `=` and end offsets of the members kept so far; parsing is synchronous, so one array
 * serves every call, and keys are compared in place rather than sliced out.
 */
const memberBounds = new Int32Array(MAX_TRACESTATE_MEMBERS * 3);

/** Whether the key `s[from, eq)` equals the key of one of the first `kept` members. */
function isRepeatedKey(s: string, from: number, eq: number, kept: number): boolean {
  const length = eq - from;
  for (let m = 0; m < kept; m++) {
    const other = memberBounds[m * 3]!;
    if (memberBounds[m * 3 + 1]! - other !== length) continue;
    let i = 0;
    while (i < length && s.charCodeAt(from + i) === s.charCodeAt(other + i)) i++;
    if (i === length) return true;
  }
  return false;
}

/**
 * Validates a `tracestate` value (several headers are joined first) and returns it with optional
 * whitespace and empty members removed, values unchanged; '' when it is invalid.
 * Invalid: a member that breaks the key/value grammar, or more than 32 members.
 * A repeated key is not a reason to lose the vendors' state: the first occurrence of each key is
 * kept and later ones are dropped (the W3C test suite's `test_tracestate_duplicated_keys` expects
 * the header passed on, as it came or with duplicates removed).
 */
export function parseTraceState(value: string | readonly string[]): string {
  const s = joinHeader(value);
  const n = s.length;
  // Clean: no whitespace or empty members to remove, so the input is the output.
  let clean = true;
  let count = 0;
  let kept = 0;
  let pos = 0;
  for (;;) {
    let comma = s.indexOf(',', pos);
    if (comma === -1) comma = n;
    const from = skipOws(s, pos, comma);
    const to = trimOwsEnd(s, from, comma);
    if (from === to) {
      // Empty and whitespace-only members are allowed, and ignored.
      if (n !== 0) clean = false;
    } else {
      const eq = validMemberEquals(s, from, to);
      if (eq < 0 || ++count > MAX_TRACESTATE_MEMBERS) return '';
      if (from !== pos || to !== comma) clean = false;
      if (isRepeatedKey(s, from, eq, kept)) {
        clean = false;
      } else {
        memberBounds[kept * 3] = from;
        memberBounds[kept * 3 + 1] = eq;
        memberBounds[kept * 3 + 2] = to;
        kept++;
      }
    }
    if (comma === n) break;
    pos = comma + 1;
  }
  if (clean) return s;
  let out = '';
  for (let i = 0; i < kept; i++) {
    const member = s.slice(memberBounds[i * 3]!, memberBounds[i * 3 + 2]!);
    out = i === 0 ? member : out + ',' + member;
  }
  return out;
}

/**
 * Checks one list-member `key=value` in `s[from, to)` (already trimmed of OWS) and returns the
 * index of its `=`, or -1 when it is invalid.
 */
function validMemberEquals(s: string, from: number, to: number): number {
  // key = ( lcalpha / DIGIT ) 0*255 ( lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" )
  const c0 = s.charCodeAt(from);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 48 && c0 <= 57))) return -1;
  let i = from + 1;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d) break;
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f || c === 0x40)) return -1;
  }
  if (i === to || i - from > MAX_KEY_LENGTH) return -1;
  const eq = i;
  // value = 0*255( chr ) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.
  // The caller trimmed trailing OWS, so a value cannot end in a space; a tab is simply invalid.
  const valueLength = to - eq - 1;
  if (valueLength === 0 || valueLength > MAX_VALUE_LENGTH) return -1;
  for (i = eq + 1; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return -1;
  }
  return eq;
}

let lastTruncatedIn = '';
let lastTruncatedOut = '';

/**
 * Shortens a valid `tracestate` to at most `limit` characters by whole entries, as the
 * specification orders: entries longer than 128 characters are removed first (right-most first,
 * only as many as needed), then entries from the end.
 */
export function truncateTraceState(state: string, limit: number): string {
  if (state.length <= limit) return state;
  // A long state travels unchanged from span to span: remember the last answer.
  if (state === lastTruncatedIn) return lastTruncatedOut;
  const entries = state.split(',');
  let length = state.length;
  for (let i = entries.length - 1; i >= 0 && length > limit; i--) {
    const entry = entries[i]!;
    if (entry.length > LARGE_ENTRY) {
      length -= entry.length + 1;
      entries.splice(i, 1);
    }
  }
  while (length > limit && entries.length > 0) length -= entries.pop()!.length + 1;
  const out = entries.join(',');
  lastTruncatedIn = state;
  lastTruncatedOut = out;
  return out;
}
