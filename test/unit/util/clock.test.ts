// The span clock reads process.hrtime() for a process's first reads and perf_hooks' performance.now() after them, so
// a short process never loads perf_hooks (issue 21). What a user relies on either way: wall-clock milliseconds with
// sub-millisecond precision, never going back, and no jump where the clock changes its source.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNodeUntracked } from '../../helpers/run-node.js';

const CLOCK = path.join(ROOT, 'dist', 'src', 'util', 'clock.js');
// A fresh process: the clock's state is per process, and this test's own process has read it already. Each read
// of `nowMs()`, `nowInto` and `elapsedInto` is checked against the previous one and against the wall clock.
const SCRIPT = `
const clock = require(${JSON.stringify(CLOCK)});
const perfLoaded = () => process.moduleLoadList.includes('NativeModule perf_hooks');
const slab = new Float64Array(2);
const reads = [];
let backwards = 0;
let offWall = 0;
let fractional = 0;
let early = 0;
let perfEarly = false;
let last = -Infinity;
const read = (i) => {
  if (i % 3 === 0) return clock.nowMs();
  if (i % 3 === 1) { clock.nowInto(slab, 0); return slab[0]; }
  const start = last;
  slab[0] = start;
  clock.elapsedInto(slab, 0);
  return start + slab[1];
};
const start = clock.nowMs();
for (let i = 0; i < 3 * clock.EARLY_READS; i++) {
  const wallBefore = Date.now();
  const t = read(i);
  const wallAfter = Date.now();
  if (t < last) backwards++;
  // Date.now() is whole milliseconds; the clock is anchored on it once, within a millisecond.
  if (t < wallBefore - 2 || t > wallAfter + 2) offWall++;
  if (t !== Math.floor(t)) fractional++;
  if (i < clock.EARLY_READS - 2) { early++; perfEarly ||= perfLoaded(); }
  last = t;
}
console.log(JSON.stringify({ start: start - Date.now(), backwards, offWall, fractional, early, perfEarly, perfLater: perfLoaded(), reads: 3 * clock.EARLY_READS }));
`;

t.test('hrtime first, perf_hooks after: wall-clock time, sub-millisecond, never back', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'reads.cjs'), SCRIPT);
  const r = runNodeUntracked([path.join(dir, 'reads.cjs')], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as Record<string, number | boolean>;
  t.ok(Math.abs(out.start as number) < 1000, 'the first read is the wall clock');
  t.equal(out.perfEarly, false, 'no perf_hooks for the early reads');
  t.ok((out.early as number) > 1000, `early reads checked (${out.early})`);
  t.equal(out.perfLater, true, 'perf_hooks once the clock is read often');
  t.equal(out.backwards, 0, 'no read earlier than the one before it, across the switch');
  t.equal(out.offWall, 0, 'every read within 2 ms of the wall clock');
  // A read that is a whole number of milliseconds happens about once in 2^40 reads at sub-µs precision.
  t.ok((out.fractional as number) >= (out.reads as number) - 2, `sub-millisecond reads (${out.fractional} of ${out.reads})`);
});

t.test('no jump where the clock moves to performance.now()', async (t) => {
  // Against perf_hooks' own clock, read beside each of ours: the difference must stay the same before and after
  // the switch. A switch that dropped the offset between the two monotonic scales would move it by hours, one that
  // anchored again on Date.now() by up to a millisecond; the reads' own noise is under a microsecond.
  const script = `
    const clock = require(${JSON.stringify(CLOCK)});
    const { performance } = require('node:perf_hooks');
    const gap = () => { const a = performance.now(); const c = clock.nowMs(); const b = performance.now(); return { d: c - (a + b) / 2, w: b - a }; };
    const before = [];
    const after = [];
    for (let i = 0; i < 3 * clock.EARLY_READS; i++) (i < clock.EARLY_READS - 10 ? before : after).push(gap());
    // The pair read closest together on each side: the least noise from the reads' own time.
    const best = (xs) => xs.reduce((m, x) => (x.w < m.w ? x : m));
    console.log(JSON.stringify({ jump: best(after.slice(20)).d - best(before).d }));
  `;
  const dir = mkdtempSync(path.join(tmpdir(), 'clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'jump.cjs'), script);
  const r = runNodeUntracked([path.join(dir, 'jump.cjs')], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  const { jump } = JSON.parse(r.stdout.trim()) as { jump: number };
  t.ok(Math.abs(jump) < 0.01, `the clock against performance.now() moves ${(jump * 1000).toFixed(3)} µs across the switch`);
});
