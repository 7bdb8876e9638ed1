// Percent-encoding of header values as UTF-8 (W3C Baggage, Jaeger baggage), by hand: the
// built-ins throw on malformed input (decodeURIComponent) and on lone surrogates (encodeURIComponent).
import { hexValue } from './text.js';

/** baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable ASCII but `"` `,` `;` `\`. */
export function isBaggageOctet(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

/** Whether percentDecode's last input was exactly what percentEncode would write for its output. */
export let decodedCanonically = true;
/** The longest input percentDecode takes; callers drop longer values before decoding. */
export const MAX_DECODED_LENGTH = 8192;
// Three bytes per character: a raw non-ASCII character is copied as UTF-8. Made at the first value that is
// not plain ASCII: most processes never see one, and the module is evaluated with the core at the http import.
let decodeScratch: Buffer | null = null;

/**
 * Percent-decodes `s[from, to)` as UTF-8. Byte sequences that are not UTF-8 become U+FFFD, as the
 * W3C Baggage specification requires; a `%` not followed by two hex digits is kept as it is.
 * At most MAX_DECODED_LENGTH characters: longer input gives ''.
 */
export function percentDecode(s: string, from: number, to: number): string {
  if (to - from > MAX_DECODED_LENGTH) {
    decodedCanonically = false;
    return '';
  }
  const ascii = decodeAscii(s, from, to);
  if (ascii !== null) return ascii;
  const scratch = (decodeScratch ??= Buffer.allocUnsafe(MAX_DECODED_LENGTH * 3));
  let n = 0;
  let canonical = true;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < to) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const b = hi * 16 + lo;
        scratch[n++] = b;
        // Our encoder writes upper-case hex, and only for bytes that need it.
        if (b < 0x80 && isBaggageOctet(b) && b !== 0x25) canonical = false;
        else if (s.charCodeAt(i + 1) >= 0x61 || s.charCodeAt(i + 2) >= 0x61) canonical = false;
        i += 2;
        continue;
      }
    }
    if (c === 0x25) canonical = false;
    if (c < 0x80) scratch[n++] = c;
    else {
      // Only Jaeger values can hold these (baggage values are ASCII by grammar); a lone surrogate
      // written this way is not UTF-8 and decodes to U+FFFD.
      canonical = false;
      if (c < 0x800) {
        scratch[n++] = 0xc0 | (c >> 6);
      } else {
        scratch[n++] = 0xe0 | (c >> 12);
        scratch[n++] = 0x80 | ((c >> 6) & 63);
      }
      scratch[n++] = 0x80 | (c & 63);
    }
  }
  const out = scratch.toString('utf8', 0, n);
  if (canonical && out.indexOf('\ufffd') !== -1) canonical = false;
  decodedCanonically = canonical;
  return out;
}

const UPPER_HEX = '0123456789ABCDEF';

function pushByte(out: string, b: number): string {
  return out + '%' + UPPER_HEX[b >> 4]! + UPPER_HEX[b & 15]!;
}

/**
 * Percent-encodes a value: every code point outside baggage-octet, and `%` itself, as UTF-8 bytes.
 * Lone surrogates (not encodable as UTF-8) become U+FFFD rather than throwing like encodeURIComponent.
 */
export function percentEncode(value: string): string {
  let i = 0;
  const n = value.length;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (!isBaggageOctet(c) || c === 0x25) break;
  }
  if (i === n) return value;
  let out = value.slice(0, i);
  for (; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      out = isBaggageOctet(c) && c !== 0x25 ? out + value[i] : pushByte(out, c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      out = pushByte(pushByte(out, 0xc0 | (c >> 6)), 0x80 | (c & 63));
    } else if (c < 0x10000) {
      out = pushByte(pushByte(pushByte(out, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 63)), 0x80 | (c & 63));
    } else {
      out = pushByte(pushByte(pushByte(pushByte(out, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 63)), 0x80 | ((c >> 6) & 63)), 0x80 | (c & 63));
    }
  }
  return out;
}

/**
 * The common case without a detour through a Buffer: every character and every escape is ASCII.
 * Returns null when a byte of 0x80 or more appears (UTF-8 decoding needed), else the decoded text,
 * setting decodedCanonically as percentDecode does.
 */
function decodeAscii(s: string, from: number, to: number): string | null {
  let out = '';
  let run = from;
  let canonical = true;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return null;
    if (c !== 0x25) continue;
    if (i + 2 >= to) {
      canonical = false;
      continue;
    }
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hexValue(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      canonical = false;
      continue;
    }
    const b = hi * 16 + lo;
    if (b >= 0x80) return null;
    if ((isBaggageOctet(b) && b !== 0x25) || s.charCodeAt(i + 1) >= 0x61 || s.charCodeAt(i + 2) >= 0x61) canonical = false;
    out += s.slice(run, i) + String.fromCharCode(b);
    i += 2;
    run = i + 1;
  }
  decodedCanonically = canonical;
  return run === from ? s.slice(from, to) : out + s.slice(run, to);
}
