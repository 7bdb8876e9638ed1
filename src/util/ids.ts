import { isHexRange } from './hex.js';
import { randomFillSync } from 'node:crypto';

// One random fill serves many ids: a single crypto call per POOL_BYTES bytes, and the hex
// conversion is done once for the whole pool so each id is a cheap substring.
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let hexPool = '';
let offset = POOL_BYTES;

function take(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    hexPool = pool.toString('hex');
    offset = 0;
  }
  const start = offset * 2;
  offset += bytes;
  return hexPool.slice(start, start + bytes * 2);
}

const ZERO_SPAN_ID = '0000000000000000';
const ZERO_TRACE_ID = '00000000000000000000000000000000';

/** A random, non-zero 64-bit span id as 16 lower-case hex characters. */
export function newSpanId(): string {
  let id = take(8);
  while (id === ZERO_SPAN_ID) id = take(8);
  return id;
}

/** A random, non-zero 128-bit trace id as 32 lower-case hex characters. */
export function newTraceId(): string {
  let id = take(16);
  while (id === ZERO_TRACE_ID) id = take(16);
  return id;
}

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
