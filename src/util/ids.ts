import { isHexRange } from './hex.js';

// Ids are cut from blocks of random bytes: one generator call per POOL_BYTES bytes, and an id is kept as
// (block, offset) rather than as text. The OTLP encoder copies its bytes; hex is made only when a
// propagator, a log line or the user asks for it, once per HEX_BYTES of the block (a slice of that stretch's text).
// 16 KiB: a block costs a fixed price per call plus its bytes, ~12 ns of every request at 24 bytes of ids
// each (sampled or not), and a block still living (with its hex text) holds ~18 KiB at most.
const POOL_BYTES = 16384;

// Hex text is made for 2 KiB of the block at a time (4 KiB of text), not for the whole block: the text lives while
// ids are taken from its stretch, and the whole block's (32 KiB, a young string) lived through the ~500 requests
// that took ids from the block, across V8's scavenges (copied, then promoted) in an app that injects trace headers
// (every outgoing call) or samples by trace id; V8 counts those bytes towards growing the new space
// (docs/performance.md, "Where the memory goes"). Per id a stretch costs ~15 instructions more than the block's
// text did (a hex call per ~85 requests' ids); a call per id would cost ~1,000 more (callgrind, Node 20).
const HEX_BYTES = 2048;

// crypto (~15 internal modules, 5-10 ms of CPU to load) is not loaded for the first block: it comes from the
// kernel's generator, which crypto's own is seeded from, read from /dev/urandom with fs (loaded by Node
// itself), with 48 bytes more to key the later blocks. A short process (a test file, a CI step, a cron job:
// issue 21) makes fewer ids than one block holds and never loads crypto; a longer one loads it for its
// second block. Where /dev/urandom cannot be read (Windows, a sandbox without /dev), crypto from the first
// block on.
//
// The later blocks come from an AES-256-CTR keystream under that key (the construction of NIST's CTR_DRBG,
// which OpenSSL's own generator uses), not from `randomFillSync` per block: each `randomFillSync` call
// creates async resources (a RandomBytesJob and a TickObject), and on Node < 24, once the agent's
// AsyncLocalStorage is enabled, every resource's init goes through Node's store propagation
// (`emitInitNative`). A resource of one more kind there deoptimises it and leaves its store megamorphic:
// +2.3 k instructions on every request of the process from the first refill on (Node 20, the plain http
// server under benchmarks/micro/server-instructions.mjs). A cipher is no async resource, and reading the
// kernel's generator synchronously makes none either.
const SEED_BYTES = 48;
let seed: Buffer | null = null;
let keystream: { update(data: Buffer): Buffer } | null = null;
let zeros: Buffer | null = null;
let firstBlock = true;

function randomBlock(): Buffer {
  if (firstBlock) {
    firstBlock = false;
    const block = Buffer.allocUnsafe(POOL_BYTES);
    const key = Buffer.allocUnsafe(SEED_BYTES);
    if (fillFromKernel([block, key])) {
      seed = key;
      return block;
    }
  }
  return fromKeystream();
}

function fromKeystream(): Buffer {
  if (keystream === null) {
    const { createCipheriv, randomFillSync } = require('node:crypto') as typeof import('node:crypto');
    const key = seed ?? randomFillSync(Buffer.allocUnsafe(SEED_BYTES));
    seed = null;
    try {
      keystream = createCipheriv('aes-256-ctr', key.subarray(0, 32), key.subarray(32));
    } catch {
      // No AES-CTR in this OpenSSL (a FIPS build without it): crypto's generator per block.
      keystream = { update: (data) => randomFillSync(Buffer.allocUnsafe(data.length)) };
    }
    zeros = Buffer.alloc(POOL_BYTES);
  }
  // Copied into a Buffer made in JavaScript, as the first block is: the cipher's output is made in C++
  // and has another map, so at the first refill the optimised code that reads a block (`take`, inlined
  // into `startSpan`) was deoptimised ("wrong map") and compiled again, polymorphic. 16 KiB copied once
  // per ~680 requests.
  const block = Buffer.allocUnsafe(POOL_BYTES);
  keystream.update(zeros!).copy(block);
  return block;
}

/** Fills each of `buffers` from /dev/urandom; false (and nothing relied on) when they cannot be read in full. */
function fillFromKernel(buffers: readonly Buffer[]): boolean {
  if (process.platform === 'win32') return false;
  const fs = require('node:fs') as typeof import('node:fs');
  let fd = -1;
  try {
    fd = fs.openSync('/dev/urandom', 'r');
    for (const bytes of buffers) {
      for (let at = 0; at < bytes.length; ) {
        const read = fs.readSync(fd, bytes, at, bytes.length - at, null);
        if (read <= 0) return false;
        at += read;
      }
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== -1) {
      try {
        fs.closeSync(fd);
      } catch {
        // Closed already: nothing to give back.
      }
    }
  }
}

/** A block of random bytes that ids are cut from, and its hex text once an id of it was wanted as hex. */
export class IdPool {
  readonly bytes: Buffer = randomBlock();
  /** The block as a DataView: the OTLP encoder copies an id four bytes at a time through it. */
  readonly view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  private used = 0;
  /** The hex text of the block from `textAt` (HEX_BYTES and 8), once an id there was wanted as hex. */
  private text: string | null = null;
  private textAt = 0;

  /** Whether `length` more bytes are left. */
  has(length: number): boolean {
    return this.used + length <= POOL_BYTES;
  }

  /** Reserves `length` bytes for a new id and returns their offset; an all-zero id (invalid) is made non-zero. */
  take(length: number): number {
    const at = this.used;
    this.used = at + length;
    const b = this.bytes;
    let any = 0;
    for (let i = at; i < at + length; i++) any |= b[i]!;
    if (any === 0) {
      b[at + length - 1] = 1;
      // The hex text may already hold this id's bytes (made for an id before it): it is made again.
      this.text = null;
    }
    return at;
  }

  /** The id at `at` as lower-case hex. */
  hex(at: number, length: number): string {
    let text = this.text;
    let start = this.textAt;
    if (text === null || at < start || 2 * (at + length - start) > text.length) {
      start = at & ~(HEX_BYTES - 1);
      // 8 bytes past the stretch too: a 16-byte id that starts in its last 8 bytes ends there.
      text = this.text = this.bytes.toString('hex', start, Math.max(at + length, Math.min(start + HEX_BYTES + 8, POOL_BYTES)));
      this.textAt = start;
    }
    const from = 2 * (at - start);
    return text.slice(from, from + 2 * length);
  }
}

let current: IdPool | null = null;

/** The block the next id of `length` bytes is cut from (`take` it), a fresh one when this one is used up. */
export function idPool(length: number): IdPool {
  let pool = current;
  if (pool === null || !pool.has(length)) current = pool = new IdPool();
  return pool;
}

/** A random, non-zero 64-bit span id as 16 lower-case hex characters. */
export function newSpanId(): string {
  const pool = idPool(8);
  return pool.hex(pool.take(8), 8);
}

/** A random, non-zero 128-bit trace id as 32 lower-case hex characters. */
export function newTraceId(): string {
  const pool = idPool(16);
  return pool.hex(pool.take(16), 16);
}

const ZERO_SPAN_ID = '0000000000000000';
const ZERO_TRACE_ID = '00000000000000000000000000000000';

export function isValidTraceId(id: string): boolean {
  return id.length === 32 && id !== ZERO_TRACE_ID && isLowerHex(id);
}

export function isValidSpanId(id: string): boolean {
  return id.length === 16 && id !== ZERO_SPAN_ID && isLowerHex(id);
}

/** True when every character is 0-9 or a-f; a loop, so the cost is linear and bounded by length. */
export function isLowerHex(s: string): boolean {
  return isHexRange(s, 0, s.length, true);
}
