// stalls.mjs reads allocation and survival per request from V8's GC trace: checked on lines as
// Node 20 and Node 24 print them, with other output mixed in.
import assert from 'node:assert/strict';
import test from 'node:test';
import { gcFigures, nvpField } from '../overhead/gc-trace.mjs';

// Shortened from real `--trace-gc-nvp` output (Node 20.20: gc=s; Node 24 prints the same keys).
const scavenge = (pause, allocated, survived, promoted = 0) =>
  `[3600:0x122b5e40]    18529 ms: pause=${pause} mutator=104.6 gc=s reduce_memory=0 scavenge=13.20 scavenge.parallel=12.98 allocated=${allocated} promoted=${promoted} new_space_survived=${survived} nodes_died_in_new=1`;
const markCompact = `[3600:0x122b5e40]    19000 ms: pause=20.5 mutator=500.1 gc=mc reduce_memory=0 allocated=1000 promoted=0 new_space_survived=0`;

test('fields by name, dotted names exactly', () => {
  const line = scavenge(13.3, 3430168, 9664);
  assert.equal(nvpField(line, 'pause'), 13.3);
  assert.equal(nvpField(line, 'scavenge'), 13.2, 'scavenge=, not scavenge.parallel=');
  assert.equal(nvpField(line, 'scavenge.parallel'), 12.98);
  assert.equal(nvpField(line, 'allocated'), 3430168);
  assert.equal(nvpField(line, 'missing'), 0);
});

test('per request and per scavenge, mark-compacts counted apart, other lines ignored', () => {
  const trace = ['listening on 4000', scavenge(1, 2000000, 1000, 100), 'some app output pause=99', scavenge(3, 4000000, 3000), markCompact, ''].join('\n');
  const f = gcFigures(trace, 1000);
  assert.equal(f.allocatedPerRequest, (2000000 + 4000000 + 1000) / 1000);
  assert.equal(f.survivedPerScavenge, 2000);
  assert.equal(f.allocatedPerScavenge, 3000000);
  assert.equal(f.promotedPerRequest, 0.1);
  assert.equal(f.scavengesPer10k, 20);
  assert.equal(f.otherGcs, 1);
  assert.equal(f.pauseMeanMs, 2);
  assert.equal(f.pauseMaxMs, 3);
  assert.equal(f.pausePerRequestUs, ((1 + 3 + 20.5) * 1000) / 1000);
});

test('no collection at all: zeros, not NaN', () => {
  const f = gcFigures('listening on 4000\n', 500);
  assert.deepEqual([f.allocatedPerRequest, f.survivedPerScavenge, f.scavengesPer10k, f.pauseMeanMs, f.pauseMaxMs], [0, 0, 0, 0, 0]);
});
