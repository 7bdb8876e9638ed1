import t from 'tap';
import { createHook } from 'node:async_hooks';
import { idPool, isValidSpanId, isValidTraceId, newSpanId, newTraceId } from '../../../src/util/ids.js';

// 16 KiB a block: 24 bytes of ids a request (trace + span), so a block lasts ~680 new traces.
const BLOCK = 16384;

t.test('ids stay valid and distinct across many blocks', async (t) => {
  const traces = new Set<string>();
  const spans = new Set<string>();
  // Ten blocks' worth of each, so that every refill after the first is crossed several times.
  for (let i = 0; i < (10 * BLOCK) / 16; i++) {
    const id = newTraceId();
    if (!isValidTraceId(id)) t.fail(`invalid trace id ${id}`);
    traces.add(id);
  }
  for (let i = 0; i < (10 * BLOCK) / 8; i++) {
    const id = newSpanId();
    if (!isValidSpanId(id)) t.fail(`invalid span id ${id}`);
    spans.add(id);
  }
  t.equal(traces.size, (10 * BLOCK) / 16, 'no trace id repeats');
  t.equal(spans.size, (10 * BLOCK) / 8, 'no span id repeats');
});

t.test('a new block is new random bytes, not a copy of an earlier one', async (t) => {
  const blocks: Buffer[] = [];
  for (let i = 0; i < 4; i++) {
    const pool = idPool(16);
    blocks.push(Buffer.from(pool.bytes));
    while (pool.has(16)) pool.take(16);
  }
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) t.notOk(blocks[i]!.equals(blocks[j]!), `block ${i} differs from block ${j}`);
    // Random bytes: every value occurs, none dominates (16 KiB: ~64 of each expected).
    const counts = new Array<number>(256).fill(0);
    for (const b of blocks[i]!) counts[b]!++;
    t.ok(Math.min(...counts) > 10 && Math.max(...counts) < 160, `block ${i} looks uniform (${Math.min(...counts)}..${Math.max(...counts)})`);
  }
});

// Why the blocks come from a keystream: each `randomFillSync` creates async resources, and on Node < 24
// every resource's init goes through the AsyncLocalStorage propagation of an app that uses one; a
// kind it has not seen deoptimises that path for every later request (docs/performance.md).
t.test('making ids creates no async resource, first block and later ones alike', async (t) => {
  newTraceId(); // the generator exists (keyed from the system's generator once)
  const seen: string[] = [];
  const hook = createHook({ init: (_id, type) => void seen.push(type) }).enable();
  try {
    for (let i = 0; i < (3 * BLOCK) / 24; i++) {
      newTraceId();
      newSpanId();
    }
  } finally {
    hook.disable();
  }
  t.same(seen, [], 'no async resource was created while three blocks and more were used up');
});

t.test("an id's hex is its bytes, wherever it lies in the block and in whatever order ids are read", async (t) => {
  // Hex text is made for a stretch of the block at a time: ids at a stretch's edges (a 16-byte id 8 bytes before
  // its end lies across two), and ids read after others from elsewhere in the block (a long request's trace id
  // read after later requests' ids), must still read as their own bytes.
  const pool = idPool(16);
  while (pool.has(16)) pool.take(8);
  const want = (at: number, length: number) => pool.bytes.subarray(at, at + length).toString('hex');
  let wrong = 0;
  let checked = 0;
  for (const length of [8, 16]) {
    for (let at = 0; at + length <= BLOCK; at += 8) {
      if (pool.hex(at, length) !== want(at, length)) wrong++;
      checked++;
    }
  }
  // Back and forth across the block: the first stretch, the last, one in the middle, across an edge, the first again.
  for (const [at, length] of [[0, 16], [BLOCK - 16, 16], [8192, 8], [1016, 16], [2040, 16], [8, 8], [BLOCK - 8, 8], [1016, 16]] as const) {
    if (pool.hex(at, length) !== want(at, length)) wrong++;
    checked++;
  }
  t.equal(wrong, 0, `${checked} ids read as their bytes`);
});

t.test('an all-zero id made non-zero after the hex text of its stretch was made reads as its new bytes', async (t) => {
  const pool = idPool(16);
  const first = pool.take(8);
  // The text of the stretch is made now, with the next id's bytes in it.
  pool.hex(first, 8);
  pool.bytes.fill(0, first + 8, first + 16);
  const next = pool.take(8);
  t.equal(next, first + 8);
  t.equal(pool.hex(next, 8), '0000000000000001', 'the id as take() left it');
  t.ok(isValidSpanId(pool.hex(next, 8)));
});
