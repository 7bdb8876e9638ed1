/** Hex digits, read one character code at a time (no regular expression, no allocation). */

/** Value of a lower-case hex digit, or -1. */
export function lowerHexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Value of a hex digit of either case, or -1. */
export function hexValue(c: number): number {
  if (c >= 65 && c <= 70) return c - 55;
  return lowerHexValue(c);
}

/** True when `s[from, to)` is all hex digits (lower-case only with `lowerOnly`); true for an empty range. */
export function isHexRange(s: string, from: number, to: number, lowerOnly: boolean): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if ((lowerOnly ? lowerHexValue(c) : hexValue(c)) < 0) return false;
  }
  return true;
}
