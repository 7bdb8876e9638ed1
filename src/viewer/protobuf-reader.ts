// A bounds-checked protobuf reader for the few wire types OTLP uses. Every read checks the end of
// its message first, so a truncated or hostile body raises `MalformedProtobuf` (a 400), never reads
// past the buffer, and never loops: each step consumes at least one byte.

/** The body is not valid protobuf for the message being read. */
export class MalformedProtobuf extends Error {
  override readonly name = 'MalformedProtobuf';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

const TWO_POW_32 = 2 ** 32;

/** Reads one message (or a nested one, via `sub`) of a buffer, from `pos` up to `end`. */
export class ProtoReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  /** True while fields remain. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a field key: returns `field << 3 | wire`. Field 0 is invalid protobuf. */
  key(): number {
    const k = this.varint32();
    if (k >>> 3 === 0) throw new MalformedProtobuf(`field number 0 at byte ${this.pos}`);
    return k;
  }

  /** A varint that must fit in 32 bits (keys, lengths, enums); higher bytes are read and dropped as protobuf does for enums. */
  varint32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new MalformedProtobuf('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 32) result |= (b & 127) << shift;
      shift += 7;
      if (b < 128) return result >>> 0;
    }
    throw new MalformedProtobuf('varint longer than 10 bytes');
  }

  /** A 64-bit varint as a signed two's-complement number: exact when safe, else a decimal string. */
  int64(): number | string {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new MalformedProtobuf('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 127) << (7 * i);
      else if (i === 4) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >> 4;
      } else hi |= (b & 127) << (7 * i - 32);
      if (b < 128) return int64FromParts(lo >>> 0, hi >>> 0);
    }
    throw new MalformedProtobuf('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.varint32() !== 0;
  }

  /** Reads 8 little-endian bytes as [low 32 bits, high 32 bits]. */
  fixed64Parts(): [number, number] {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return [lo, hi];
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** The length prefix of a length-delimited field, checked against the enclosing message. */
  private length(): number {
    const len = this.varint32();
    if (len > this.end - this.pos) throw new MalformedProtobuf(`length ${len} runs past the end of its message`);
    return len;
  }

  string(): string {
    const len = this.length();
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A bytes field as lower-case hex (ids). */
  hex(): string {
    const len = this.length();
    const s = this.buf.toString('hex', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A bytes field as base64 (AnyValue bytes, shown as text). */
  base64(): string {
    const len = this.length();
    const s = this.buf.toString('base64', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A reader over the nested message in the next length-delimited field; this reader moves past it. */
  sub(): ProtoReader {
    const len = this.length();
    const r = new ProtoReader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  /** Skips a field we do not read; unknown fields are legal protobuf and must not fail the request. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.int64();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LENGTH_DELIMITED: {
        // Read the length first: `this.pos += this.length()` would add to the position before the prefix.
        const len = this.length();
        this.pos += len;
        return;
      }
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        // Groups (3, 4) are not used by any OTLP message; anything else is not protobuf.
        throw new MalformedProtobuf(`unsupported wire type ${wire}`);
    }
  }

  /** Throws unless the field's wire type is the expected one (a mismatch means a corrupt body). */
  expect(key: number, wire: number): void {
    if ((key & 7) !== wire) throw new MalformedProtobuf(`field ${key >>> 3} has wire type ${key & 7}, expected ${wire}`);
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new MalformedProtobuf('truncated fixed-width field');
  }
}

/** A signed 64-bit integer from its two 32-bit halves: a number when exactly representable, else its decimal string. */
export function int64FromParts(lo: number, hi: number): number | string {
  if (hi === 0) return lo;
  const signed = hi >= 0x80000000;
  const value = signed ? (hi - TWO_POW_32) * TWO_POW_32 + lo : hi * TWO_POW_32 + lo;
  if (Number.isSafeInteger(value)) return value;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

// 2^32 = 4294 * 10^6 + 967296: splitting the high word this way keeps every step an exact double.
const HI_MILLIONS = 4294;
const HI_REST = 967296;

/** An unsigned 64-bit integer (fixed64 nanoseconds) from its halves, as an exact decimal string, without BigInt. */
export function uint64String(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * TWO_POW_32 + lo);
  const r = hi * HI_REST + lo;
  const millions = hi * HI_MILLIONS + Math.floor(r / 1e6);
  const rest = String(r % 1e6);
  return `${millions}${'000000'.slice(rest.length)}${rest}`;
}

/** fixed64 nanoseconds (as halves) → milliseconds, whole part exact, fraction to double precision. */
export function nanosPartsToMs(lo: number, hi: number): number {
  const r = hi * HI_REST + lo;
  return hi * HI_MILLIONS + Math.floor(r / 1e6) + (r % 1e6) / 1e6;
}
