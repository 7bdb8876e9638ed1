// A minimal protobuf writer: just the wire types OTLP traces need. Nested messages are written in
// place with a one-byte length placeholder that is widened afterwards, so there is no separate
// sizing pass and no per-message buffer.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/**
 * Appends protobuf fields to a growable buffer. Reusable: `reset()` keeps the memory.
 *
 * `buf`, `bufView`, `length` and `epoch` are plain fields, not getters: the span encoder writes a span's
 * fixed fields straight into `buf` (after `ensure`) and reads them per span, and on Node 24 each small
 * function that gets hot under load is a Maglev compile job whose zone glibc keeps (~0.12 MB of peak RSS
 * each: docs/performance.md, round fifteen). Only the writer changes them, except `length` (see `ensure`).
 */
export class ProtoWriter {
  /** The buffer written into, up to `length`: another after `ensure` or any write (it grows), so read it again. */
  buf: Buffer;
  /** A DataView of `buf`, for 4-byte stores. */
  bufView: DataView;
  /** Bytes written so far. A caller that wrote into `buf` by hand (after `ensure`) sets it past what it wrote. */
  length = 0;
  /**
   * Changes whenever bytes written earlier may be gone (`reset`, `detach`, `truncate`): positions noted
   * in one epoch can be read back with `repeat` while it lasts.
   */
  epoch = 0;
  /** A DataView of the latest id block read, for 4-byte moves. */
  private sourceView: DataView | null = null;
  private sourceOf: Uint8Array | null = null;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.bufView = viewOf(this.buf);
  }

  /** Empties the writer; with `start`, writing resumes there (the bytes before it are the caller's). */
  reset(start = 0): void {
    this.length = start;
    this.epoch++;
  }

  /** Size of the buffer written into. */
  get capacity(): number {
    return this.buf.length;
  }

  /**
   * Hands the buffer written so far to the caller (it is theirs now, written up to `length`) and
   * goes on in `next`, empty: a batch becomes a request body without a copy.
   */
  detach(next: Buffer): Buffer {
    const done = this.buf;
    this.buf = next;
    this.bufView = viewOf(next);
    this.length = 0;
    this.epoch++;
    return done;
  }

  /** Forgets everything written after `length` (to take back a half-written message). */
  truncate(length: number): void {
    if (length >= 0 && length < this.length) {
      this.length = length;
      this.epoch++;
    }
  }

  /** What was written (from `start`), without a copy: valid only until the next write or `reset()`. */
  view(start = 0): Buffer {
    return this.buf.subarray(start, this.length);
  }

  /** A copy of what was written, safe to keep after the next `reset()`. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  /** Makes room for `extra` more bytes after `length` (for the writer's methods, and for a caller writing into `buf`). */
  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    this.bufView = viewOf(next);
  }

  private tag(field: number, wire: number): void {
    // Every field OTLP traces write is below 16: a one-byte tag.
    if (field < 16) {
      this.ensure(1);
      this.buf[this.length++] = (field << 3) | wire;
      return;
    }
    this.rawVarint32((field << 3) | wire);
  }

  /** Writes an unsigned 32-bit varint (no field tag). */
  private rawVarint32(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    while (v > 127) {
      this.buf[this.length++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.length++] = v;
  }

  /** A uint32 or enum field; zero is the default and is omitted. */
  uint32(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, WIRE_VARINT);
    this.rawVarint32(value);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, WIRE_VARINT);
    this.rawVarint32(value ? 1 : 0);
  }

  /** An int64 field from a JS integer (negative numbers take ten bytes, as protobuf requires). */
  int64(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    if (value >= 0 && value <= 0x7fffffff) {
      this.rawVarint32(value);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v > 127n) {
      this.buf[this.length++] = Number(v & 127n) | 128;
      v >>= 7n;
    }
    this.buf[this.length++] = Number(v);
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  fixed64(field: number, value: bigint): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeBigUInt64LE(value, this.length);
    this.length += 8;
  }

  fixed32(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    // Byte by byte, as nanosFromMs: writeUInt32LE's range checks are a call per span (the flags field).
    const buf = this.buf;
    const at = this.length;
    const v = value >>> 0;
    buf[at] = v;
    buf[at + 1] = v >>> 8;
    buf[at + 2] = v >>> 16;
    buf[at + 3] = v >>> 24;
    this.length = at + 4;
  }

  /**
   * A message `{ 1: key, 2: { 1: value } }` in field `field` — the shape of OTLP's `KeyValue` with a
   * string `AnyValue` — when both strings are ASCII and the whole fits in one-byte lengths: one
   * capacity check and no length placeholders. Returns false, having written nothing, otherwise.
   */
  asciiKeyStringValue(field: number, key: string, value: string): boolean {
    const kl = key.length;
    const vl = value.length;
    // Lengths: inner value message vl + 2, whole message kl + vl + 6; all below 128.
    if (kl + vl > 121 || field >= 16) return false;
    this.ensure(kl + vl + 8);
    const buf = this.buf;
    const start = this.length;
    let at = copyAscii(buf, start + 4, key);
    if (at < 0) return false;
    buf[at] = (2 << 3) | WIRE_LENGTH_DELIMITED;
    buf[at + 1] = vl + 2;
    buf[at + 2] = (1 << 3) | WIRE_LENGTH_DELIMITED;
    buf[at + 3] = vl;
    at += 4;
    at = copyAscii(buf, at, value);
    if (at < 0) return false;
    buf[start] = (field << 3) | WIRE_LENGTH_DELIMITED;
    buf[start + 1] = kl + vl + 6;
    buf[start + 2] = (1 << 3) | WIRE_LENGTH_DELIMITED;
    buf[start + 3] = kl;
    this.length = at;
    return true;
  }

  /**
   * A message `{ 1: key, 2: { 3: value } }` — OTLP's `KeyValue` with an int `AnyValue` — for an
   * ASCII key and an integer in [0, 2^31), as `asciiKeyStringValue`. False, nothing written, otherwise.
   */
  asciiKeySmallIntValue(field: number, key: string, value: number): boolean {
    const kl = key.length;
    if (kl > 112 || field >= 16 || !(value >= 0 && value <= 0x7fffffff && Math.floor(value) === value)) return false;
    this.ensure(kl + 12);
    const buf = this.buf;
    const start = this.length;
    let at = copyAscii(buf, start + 4, key);
    if (at < 0) return false;
    const valueAt = at;
    buf[at] = (2 << 3) | WIRE_LENGTH_DELIMITED;
    at += 2;
    buf[at++] = (3 << 3) | WIRE_VARINT;
    let v = value;
    while (v > 127) {
      buf[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[at++] = v;
    buf[valueAt + 1] = at - valueAt - 2;
    buf[start] = (field << 3) | WIRE_LENGTH_DELIMITED;
    buf[start + 1] = at - start - 2;
    buf[start + 2] = (1 << 3) | WIRE_LENGTH_DELIMITED;
    buf[start + 3] = kl;
    this.length = at;
    return true;
  }

  /** A string field (written even when empty: callers skip optional empties themselves). */
  string(field: number, value: string): void {
    // Most keys and values are short ASCII: copying them by hand beats a native call per string.
    const n = value.length;
    if (n < 128 && field < 16) {
      this.ensure(n + 2);
      const buf = this.buf;
      const start = this.length;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 2 + i] = c;
      }
      if (i === n) {
        buf[start] = (field << 3) | WIRE_LENGTH_DELIMITED;
        buf[start + 1] = n;
        this.length = start + 2 + n;
        return;
      }
    }
    this.tag(field, WIRE_LENGTH_DELIMITED);
    const len = Buffer.byteLength(value, 'utf8');
    this.rawVarint32(len);
    this.ensure(len);
    this.length += this.buf.write(value, this.length, len, 'utf8');
  }

  /** A bytes field given as lower-case hex (trace and span ids). */
  hexBytes(field: number, hex: string): void {
    const len = hex.length >>> 1;
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint32(len);
    this.ensure(len);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < len * 2; i += 2) buf[at++] = (hexDigit(hex.charCodeAt(i)) << 4) | hexDigit(hex.charCodeAt(i + 1));
    this.length = at;
  }

  /** A bytes field of `length` bytes of `src` from `at` (ids: short, so a loop beats a native copy). */
  bytesAt(field: number, src: Uint8Array, at: number, length: number): void {
    if ((length === 16 || length === 8) && field < 16) {
      // A trace or span id, four bytes at a time through DataViews (which TurboFan compiles to plain
      // loads and stores): a quarter of the instructions of the byte loop below.
      this.ensure(length + 2);
      const buf = this.buf;
      const to = this.length;
      buf[to] = (field << 3) | WIRE_LENGTH_DELIMITED;
      buf[to + 1] = length;
      const dst = this.bufView;
      let source = this.sourceView;
      if (this.sourceOf !== src || source === null) {
        source = this.sourceView = new DataView(src.buffer, src.byteOffset, src.byteLength);
        this.sourceOf = src;
      }
      dst.setUint32(to + 2, source.getUint32(at, true), true);
      dst.setUint32(to + 6, source.getUint32(at + 4, true), true);
      if (length === 16) {
        dst.setUint32(to + 10, source.getUint32(at + 8, true), true);
        dst.setUint32(to + 14, source.getUint32(at + 12, true), true);
      }
      this.length = to + 2 + length;
      return;
    }
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint32(length);
    this.ensure(length);
    const buf = this.buf;
    let to = this.length;
    for (let i = at; i < at + length; i++) buf[to++] = src[i]!;
    this.length = to;
  }

  /**
   * Appends again the `length` bytes written at `from` (in this `epoch`): one native move, where
   * encoding them again costs tens of instructions a byte.
   */
  repeat(from: number, length: number): void {
    // The check written out, `ensure` called only to grow: this runs per span (see the class's comment).
    if (this.length + length > this.buf.length) this.ensure(length);
    this.buf.copyWithin(this.length, from, from + length);
    this.length += length;
  }

  /**
   * Writes `value` (an integer in [0, 2^31)) as a varint at `at`, over bytes already written (a copy of
   * a varint of the same width): the length of what is around it does not change.
   */
  varintAt(at: number, value: number): void {
    const buf = this.buf;
    let v = value;
    while (v > 127) {
      buf[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[at] = v;
  }

  /** A fixed64 field holding `ms` milliseconds since the epoch as nanoseconds, without BigInt. */
  nanosFromMs(field: number, ms: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    nanosAt(this.bufView, this.length, ms);
    this.length += 8;
  }

  /** Starts a nested message; pass the result to `end`. */
  begin(field: number): number {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.ensure(1);
    return this.length++;
  }

  /** Ends a nested message started at `mark`, writing its length. */
  end(mark: number): void {
    const len = this.length - mark - 1;
    if (len < 128) {
      this.buf[mark] = len;
      return;
    }
    this.placeLength(mark, 1, len);
  }

  /**
   * Writes `len` as a varint at `mark`, where `reserved` bytes were left for it: the message after them
   * moves to fit the varint's real size (wider or narrower). The slow path of `end`, and of the span
   * encoder's two-byte lengths. Returns how far the message moved.
   */
  placeLength(mark: number, reserved: number, len: number): number {
    const size = varintSize(len);
    if (size !== reserved) {
      if (size > reserved) this.ensure(size - reserved);
      this.buf.copyWithin(mark + size, mark + reserved, this.length);
      this.length += size - reserved;
    }
    const buf = this.buf;
    let at = mark;
    let v = len;
    while (v > 127) {
      buf[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[at] = v;
    return size - reserved;
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** The bytes a varint of `value` (an integer in [0, 2^32)) takes. */
export function varintSize(value: number): number {
  if (value < 1 << 7) return 1;
  if (value < 1 << 14) return 2;
  if (value < 1 << 21) return 3;
  if (value < 1 << 28) return 4;
  return 5;
}

/**
 * Copies `text` into `buf` at `at` as one byte per character, for the ASCII fast paths; returns the
 * position after it, or -1 at the first character above 0x7f (what was copied is then left as
 * garbage past the writer's position, which the caller never advances over).
 */
export function copyAscii(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return -1;
    buf[at++] = c;
  }
  return at;
}

/**
 * Writes `ms` milliseconds since the epoch as a little-endian 64-bit count of nanoseconds at `at` (the
 * value of a fixed64 field), without BigInt.
 */
export function nanosAt(view: DataView, at: number, ms: number): void {
  // ns = whole * 1e6 + frac, split so every intermediate stays an exact double (< 2^53).
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  const high = Math.floor(whole / 2 ** 21);
  const low = whole - high * 2 ** 21;
  const a = high * 1e6; // times 2^21
  // a % 2048, exactly (a / 2048 is exact): a double's % is a call into C, this is not.
  let lo = (a - Math.trunc(a / 2048) * 2048) * 2 ** 21 + low * 1e6 + frac;
  const carry = Math.floor(lo / 2 ** 32);
  lo -= carry * 2 ** 32;
  const hi = Math.floor(a / 2048) + carry;
  // Through the DataView (as ToUint32, the same bytes as storing lo, lo >>> 8, ...): writeUInt32LE's
  // range checks cost more than the stores.
  view.setUint32(at, lo, true);
  view.setUint32(at + 4, hi, true);
}
