// The targets table is what the issue is judged on: a target must read "no" whenever the figure
// misses it, an invalid row must never read "yes", and the CPU goal must follow the Node line.
import assert from 'node:assert/strict';
import test from 'node:test';
import { cpuTargets, judgeTargets, unsampledMaxUs, verdict } from '../overhead/targets.mjs';

const subjects = [
  { key: 'ours', sampled: 'ours', unsampled: 'ours-unsampled' },
  { key: 'ours-before', sampled: 'ours-before', unsampled: 'ours-before-unsampled' },
  { key: 'otel', sampled: 'otel' },
];
const row = (app, agent, fields, valid = true) => ({ app, agent, valid, ...fields });

test('a throughput ratio at the goal meets it, one below does not', () => {
  assert.equal(verdict({ value: 0.85, atLeast: 0.85 }), 'yes');
  assert.equal(verdict({ value: 0.849, atLeast: 0.85 }), 'no');
  assert.equal(verdict({ value: 1.2, atMost: 1.2 }), 'yes');
  assert.equal(verdict({ value: 1.21, atMost: 1.2 }), 'no');
});

test('an invalid row never meets a target, and a missing figure is "not measured"', () => {
  assert.equal(verdict({ value: 0.99, valid: false, atLeast: 0.85 }), 'no (INVALID)');
  assert.equal(verdict({ value: null, atLeast: 0.85 }), 'not measured');
  assert.equal(verdict({ value: Number.NaN, atMost: 2 }), 'not measured');
});

test('the unsampled CPU goal is 1 µs from Node 24 on and 2 µs below', () => {
  assert.equal(unsampledMaxUs(20), 2);
  assert.equal(unsampledMaxUs(22), 2);
  assert.equal(unsampledMaxUs(24), 1);
  assert.equal(unsampledMaxUs(26), 1);
});

test('cpuTargets judges the exported span against unsampled and unsampled against no agent', () => {
  const [span, unsampled] = cpuTargets({ nodeMajor: 24, sampledOverUnsampled: 1.9, unsampledOverNone: 1.4 });
  assert.equal(span.met, 'yes');
  assert.equal(unsampled.met, 'no');
  assert.match(unsampled.goal, /≤ \+1 µs/);
  const [, on20] = cpuTargets({ nodeMajor: 20, sampledOverUnsampled: 2.5, unsampledOverNone: 1.4 });
  assert.equal(on20.met, 'yes');
  assert.equal(cpuTargets({ nodeMajor: 20, sampledOverUnsampled: 1, unsampledOverNone: 1 }).length, 2);
});

test('cpuTargets adds the p99 target when a p99 ratio is given', () => {
  const [, , p99] = cpuTargets({ nodeMajor: 24, sampledOverUnsampled: 1, unsampledOverNone: 1, p99Ratio: 1.3 });
  assert.equal(p99.met, 'no');
  assert.equal(cpuTargets({ nodeMajor: 24, sampledOverUnsampled: 1, unsampledOverNone: 1, p99Ratio: 1.15 })[2].met, 'yes');
  assert.equal(cpuTargets({ nodeMajor: 24, sampledOverUnsampled: 1, unsampledOverNone: 1, p99Ratio: null })[2].met, 'not measured');
});

test('judgeTargets reads ours for the verdict on its interval and lists the before build and the peers beside it', () => {
  const rows = [
    row('http', 'ours', { capacityRatio: 0.9, capacityInterval: [0.87, 0.93], ratio: 0.95, p99Ratio: 1.1, p99Interval: [1.05, 1.15], overUnsampledUs: 2.5, overUnsampledInterval: [2.1, 2.9] }),
    row('http', 'ours-unsampled', { addedCpuUs: 1.5, addedCpuInterval: [1.2, 1.8] }),
    row('http', 'ours-before', { capacityRatio: 0.6, capacityInterval: [0.5, 0.7], ratio: 0.7, p99Ratio: 1.5, overUnsampledUs: 9 }),
    row('http', 'ours-before-unsampled', { addedCpuUs: 2.6 }),
    row('http', 'otel', { capacityRatio: 0.2, ratio: 0.3, p99Ratio: 3 }),
    // fetch: 0.89 against 0.90 with an interval on both sides of the goal: the run cannot tell.
    row('fetch', 'ours', { capacityRatio: 0.89, capacityInterval: [0.85, 0.93], p99Ratio: 1.3, p99Interval: [1.25, 1.4] }),
    row('fetch', 'ours-before', { capacityRatio: 0.7, p99Ratio: 1.4 }),
    row('fetch', 'otel', { capacityRatio: 0.6, p99Ratio: 2 }),
  ];
  const targets = judgeTargets(rows, { nodeMajor: 20, subjects, apps: ['http', 'fetch'] });
  const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
  assert.deepEqual(Object.keys(byId), ['throughput-http', 'throughput-fetch', 'p99-http', 'p99-fetch', 'cpu-exported-span', 'cpu-unsampled']);
  assert.equal(byId['throughput-http'].met, 'yes');
  assert.deepEqual(byId['throughput-http'].values, { ours: 0.9, 'ours-before': 0.6, otel: 0.2 });
  assert.deepEqual(byId['throughput-http'].intervals, { ours: [0.87, 0.93], 'ours-before': [0.5, 0.7], otel: null });
  assert.deepEqual(byId['throughput-http'].reqPerSec, { ours: 0.95, 'ours-before': 0.7, otel: 0.3 });
  assert.equal(byId['throughput-fetch'].met, 'not resolved');
  assert.equal(byId['p99-http'].met, 'yes');
  assert.equal(byId['p99-fetch'].met, 'no');
  assert.equal(byId['cpu-exported-span'].met, 'no');
  assert.equal(byId['cpu-exported-span'].values.otel, null);
  assert.equal(byId['cpu-unsampled'].met, 'yes');
  assert.equal(byId['cpu-unsampled'].values['ours-before'], 2.6);
});

test('the exported-span figure is invalid when either twin row is invalid', () => {
  const rows = [
    row('http', 'ours', { capacityRatio: 0.9, capacityInterval: [0.88, 0.92], p99Ratio: 1, overUnsampledUs: 0.5 }),
    row('http', 'ours-unsampled', { addedCpuUs: 0.5 }, false),
  ];
  const targets = judgeTargets(rows, { nodeMajor: 24, subjects: subjects.slice(0, 1), apps: ['http'] });
  const span = targets.find((t) => t.id === 'cpu-exported-span');
  assert.equal(span.met, 'no (INVALID)');
  assert.equal(targets.find((t) => t.id === 'cpu-unsampled').met, 'no (INVALID)');
  assert.equal(targets.find((t) => t.id === 'throughput-http').met, 'yes');
});

test('an app without a throughput target gets only its p99 row; without http no CPU rows', () => {
  const rows = [row('fastify', 'ours', { capacityRatio: 0.8, p99Ratio: 1.1 })];
  const targets = judgeTargets(rows, { nodeMajor: 24, subjects: subjects.slice(0, 1), apps: ['fastify', 'other'] });
  assert.deepEqual(targets.map((t) => t.id), ['throughput-fastify', 'p99-fastify', 'p99-other']);
  assert.equal(targets[2].met, 'not measured');
});
