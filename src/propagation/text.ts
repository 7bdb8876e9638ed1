import { hexValue as hexValueOf, isHexRange, lowerHexValue as lowerHexValueOf } from '../util/hex.js';
// Character-level helpers shared by the header parsers. Every parser walks its input once by
// index: no regular expressions (nothing can backtrack) and no splitting before validation.

/** True for a space or a horizontal tab: HTTP's optional whitespace (OWS). */
export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Index of the first non-OWS character at or after `from`, not beyond `to`. */
export function skipOws(s: string, from: number, to: number): number {
  while (from < to && isOws(s.charCodeAt(from))) from++;
  return from;
}

/** Index just after the last non-OWS character before `to`, not before `from`. */
export function trimOwsEnd(s: string, from: number, to: number): number {
  while (to > from && isOws(s.charCodeAt(to - 1))) to--;
  return to;
}

// Plain data exports, not `export { } from`: a re-export compiles to a getter on this module's
// exports object, which turns it into a dictionary, and then every helper a parser calls from here
// (per character, on every request that carries a trace header) is a getter call through V8's
// generic load IC (see src/agent/instrumentation.ts).
export const hexValue = hexValueOf;
export const lowerHexValue = lowerHexValueOf;

/**
 * Checks `s[from, from+length)` is lower-case hex and not all zeros: the rule for W3C ids.
 * Returns false when the range runs past the end.
 */
export function isNonZeroLowerHex(s: string, from: number, length: number): boolean {
  if (from + length > s.length || !isHexRange(s, from, from + length, true)) return false;
  for (let i = from; i < from + length; i++) if (s.charCodeAt(i) !== 48) return true;
  return false;
}

/**
 * Normalises a hex id of 1..`width` digits in either case to `width` lower-case digits, left-padded
 * with zeros; `null` when it is not hex, too long, or all zeros. Used by B3 and Jaeger, whose ids
 * may be shorter than ours (64-bit trace ids, Jaeger's dropped leading zeros).
 */
export function normaliseHexId(s: string, from: number, to: number, width: number): string | null {
  const length = to - from;
  if (length <= 0 || length > width) return null;
  let nonZero = false;
  let lower = true;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const v = hexValueOf(c);
    if (v < 0) return null;
    if (v !== 0) nonZero = true;
    if (c >= 65 && c <= 70) lower = false;
  }
  if (!nonZero) return null;
  let id = from === 0 && to === s.length ? s : s.slice(from, to);
  if (!lower) id = id.toLowerCase();
  return length === width ? id : ZEROS.slice(0, width - length) + id;
}

const ZEROS = '00000000000000000000000000000000';

/** 1 for each ASCII code that is an RFC 9110 token character (`tchar`); a table beats branching. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** RFC 9110 token character (`tchar`): the characters allowed in header names and baggage keys. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** True when `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Joins a header that arrived several times, as RFC 9110 combines repeated list fields. */
export function joinHeader(value: string | readonly string[]): string {
  return typeof value === 'string' ? value : value.join(',');
}
