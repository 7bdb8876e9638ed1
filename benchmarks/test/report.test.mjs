// Every relative figure of the report is paired within a round before the median is taken, so a
// round that was slow for every row cannot move a ratio; these tests pin that down.
import assert from 'node:assert/strict';
import test from 'node:test';
import { isDisturbed, summarize, targetsOf, targetSubjects, toMarkdown } from '../overhead/report.mjs';
import { LatencyHistogram } from '../overhead/latency.mjs';

const agents = [
  { id: 'none', label: 'no agent' },
  { id: 'ours', label: 'ours, sampled', unsampled: 'ours-unsampled' },
  { id: 'ours-unsampled', label: 'ours, unsampled', sameAs: 'ours' },
  { id: 'ours-before', label: 'ours before (abc1234), sampled', unsampled: 'ours-before-unsampled' },
  { id: 'ours-before-unsampled', label: 'ours before (abc1234), unsampled', sameAs: 'ours-before' },
  { id: 'otel', label: 'OpenTelemetry' },
];
const meta = {
  finishedAt: 'now', node: 'v20.20.2', serverNode: 'v24.21.0', command: 'npm run bench -- --node 24',
  machine: { cpuModel: 'cpu', cores: 2, memGb: 24, platform: 'linux', release: 'r', loadAvgStart: '1', loadAvgEnd: '1' },
  pinning: { server: 1, load: 0 }, settings: { rounds: 3, duration: 10, warmup: 2, connections: 10, startupRuns: 0 },
  versions: { autocannon: '8' },
};
const cell = (agent, round, rps, p99Ms, cpuUsPerRequest, invalid = []) => ({
  app: 'http', agent, round, invalid, cpuUsPerRequest, rssBytes: 50 * 2 ** 20,
  load: { rps, requests: rps * 10, meanMs: 0.1, p50Ms: 0.1, p99Ms, errors: 0, timeouts: 0, non2xx: 0 },
  spansPerRequest: agent === 'none' ? 0 : 1,
});
// Round 2 ran on a busier machine: every row is slower and costs more CPU.
const cells = [
  cell('none', 1, 1000, 1.0, 20), cell('ours', 1, 900, 1.1, 23), cell('ours-unsampled', 1, 950, 1.0, 21.5),
  cell('ours-before', 1, 600, 2.0, 30), cell('ours-before-unsampled', 1, 900, 1.0, 22.5), cell('otel', 1, 200, 4.0, 80),
  cell('none', 2, 500, 2.0, 40), cell('ours', 2, 450, 2.2, 43), cell('ours-unsampled', 2, 475, 2.0, 41.5),
  cell('ours-before', 2, 300, 4.0, 50), cell('ours-before-unsampled', 2, 450, 2.0, 42.5), cell('otel', 2, 100, 8.0, 100),
  cell('none', 3, 1000, 1.0, 20), cell('ours', 3, 880, 1.1, 23), cell('ours-unsampled', 3, 950, 1.0, 21.5),
  cell('ours-before', 3, 600, 2.0, 30), cell('ours-before-unsampled', 3, 900, 1.0, 22.5), cell('otel', 3, 200, 4.0, 80),
];

test('ratios, p99 ratios and CPU differences are paired within a round', () => {
  const rows = summarize(cells, ['http'], agents);
  const ours = rows.find((r) => r.agent === 'ours');
  assert.equal(ours.ratio, 0.9);
  assert.ok(Math.abs(ours.p99Ratio - 1.1) < 1e-9);
  assert.equal(ours.addedCpuUs, 3);
  assert.equal(ours.overUnsampledUs, 1.5);
  assert.equal(ours.cpuUsPerRequest, 23);
  const before = rows.find((r) => r.agent === 'ours-before');
  assert.equal(before.overUnsampledUs, 7.5);
  assert.equal(rows.find((r) => r.agent === 'ours-before-unsampled').addedCpuUs, 2.5);
  assert.equal(rows.find((r) => r.agent === 'otel').overUnsampledUs, null);
});

test('the targets table names ours first, then the before build and the peers, with a verdict per target', () => {
  const rows = summarize(cells, ['http'], agents);
  const { subjects, targets } = targetsOf(rows, { agents, apps: ['http'], nodeMajor: 24 });
  assert.deepEqual(subjects.map((s) => s.key), ['ours', 'ours-before', 'otel']);
  const met = Object.fromEntries(targets.map((t) => [t.id, t.met]));
  // Throughput is read on capacity: no agent's CPU per request over ours, 20 / 23 = 0.87 (≥ 0.85 in every resample).
  assert.deepEqual(met, { 'throughput-http': 'yes', 'p99-http': 'yes', 'cpu-exported-span': 'yes', 'cpu-unsampled': 'no' });
  const md = toMarkdown({ meta, rows, startup: [], targets, subjects });
  assert.match(md, /\| http: unsampled request, server CPU over no agent \| ≤ \+1 µs \| \+1\.5 µs \[\+1\.5, \+1\.5\] \| \+2\.5 µs \[\+2\.5, \+2\.5\] \| — \| no \|/);
  assert.match(md, /\| http: throughput × no agent \(server capacity, 1 \/ CPU per request\) \| ≥ 0\.85 \| 0\.87 \[0\.87, 0\.93\]; req\/s 0\.90 \| 0\.67 \[0\.67, 0\.80\]; req\/s 0\.60 \| 0\.25 \[0\.25, 0\.40\]; req\/s 0\.20 \| yes \|/);
  assert.match(md, /Servers on Node v24\.21\.0/);
  assert.doesNotMatch(md, /Start-up/);
});

test('an invalid row is bracketed in the targets table and never met', () => {
  const broken = cells.map((c) => (c.agent === 'ours' ? { ...c, invalid: ['no spans reached the sink'] } : c));
  const rows = summarize(broken, ['http'], agents);
  const { subjects, targets } = targetsOf(rows, { agents, apps: ['http'], nodeMajor: 20 });
  assert.equal(targets.find((t) => t.id === 'throughput-http').met, 'no (INVALID)');
  assert.equal(subjects[0].label, 'ours, sampled');
});

test('without our rows there is nothing to judge', () => {
  const peers = [agents[0], agents[5]];
  assert.deepEqual(targetsOf(summarize(cells, ['http'], peers), { agents: peers, apps: ['http'], nodeMajor: 20 }).targets, []);
  assert.deepEqual(targetSubjects(peers).map((s) => s.key), ['ours', 'otel']);
});

test('the latency histogram answers a quantile to its 10 µs bucket, never below the true value', () => {
  const h = new LatencyHistogram();
  assert.equal(h.quantileMs(0.99), null);
  for (let i = 1; i <= 1000; i++) h.record(i / 100); // 0.01 … 10 ms
  assert.ok(Math.abs(h.quantileMs(0.99) - 9.91) < 0.011);
  assert.ok(h.quantileMs(0.99) >= 9.9);
  assert.ok(Math.abs(h.quantileMs(0.5) - 5.01) < 0.011);
  assert.ok(Math.abs(h.meanMs() - 5.005) < 1e-9);
  h.record(1e6); // slower than the histogram: lands in the last bucket
  assert.equal(h.quantileMs(1), 2000);
});

test('a slice whose server core was shared or whose load core ran out is counted as disturbed', () => {
  const withCores = (agent, round, cores) => ({ ...cell(agent, round, 1000, 1.0, 20), cores });
  const shared = [
    withCores('none', 1, { server: 0.99, otherOnServerCore: 0.01, loadCore: 0.6 }),
    withCores('ours', 1, { server: 0.7, otherOnServerCore: 0.3, loadCore: 0.6 }),
    withCores('none', 2, { server: 0.9, otherOnServerCore: 0.02, loadCore: 0.97 }),
    withCores('ours', 2, { server: 0.99, otherOnServerCore: 0, loadCore: 0.5 }),
  ];
  assert.equal(isDisturbed(shared[0]), false);
  assert.equal(isDisturbed(shared[1]), true);
  assert.equal(isDisturbed(shared[2]), true);
  assert.equal(isDisturbed(cell('none', 1, 1000, 1.0, 20)), false, 'unpinned cells have no core figures');
  const rows = summarize(shared, ['http'], agents.slice(0, 2));
  assert.deepEqual(rows.map((r) => [r.agent, r.disturbed, r.otherOnServerCore, Math.round(r.loadCore * 100) / 100]), [['none', 1, 0.015, 0.78], ['ours', 1, 0.15, 0.55]]);
  assert.match(toMarkdown({ meta, rows, startup: [], targets: [], subjects: [] }), /\| 0\.15 \/ 0\.55 \| 1\/2 \|/);
});

// Interleaved cells: every row's slices, pass by pass. The machine's state moves from pass to pass
// (here pass 2 costs every process twice the CPU, as a co-runner on the core did on this VM); a
// figure taken per pass must not move with it, whichever row's whole-cell figure does.
const sliced = (agent, round, cpuByPass, rpsByPass, p99 = 1) => ({
  app: 'http', agent, round, invalid: [], rssBytes: 50 * 2 ** 20,
  cpuUsPerRequest: cpuByPass.reduce((a, b) => a + b) / cpuByPass.length,
  load: { rps: 1000, requests: 10000, p50Ms: 0.1, p99Ms: p99, errors: 0, timeouts: 0, non2xx: 0 },
  slices: cpuByPass.map((cpu, i) => ({ pass: i + 1, cpuUsPerRequest: cpu, rps: rpsByPass[i], p99Ms: p99 * cpu / 20 })),
});

test('interleaved: ratios and differences are paired pass by pass, so a slow pass moves no figure', () => {
  const rowsOf = [agents[0], agents[1], agents[2]];
  const cellsSliced = [1, 2, 3].flatMap((round) => [
    sliced('none', round, [20, 40, 20, 20, 20], [1000, 300, 1000, 1000, 1000]),
    sliced('ours', round, [25, 50, 25, 25, 25], [800, 240, 800, 800, 800]),
    sliced('ours-unsampled', round, [22, 44, 22, 22, 22], [900, 270, 900, 900, 900]),
  ]);
  const rows = summarize(cellsSliced, ['http'], rowsOf);
  const ours = rows.find((r) => r.agent === 'ours');
  assert.equal(ours.capacityRatio, 0.8);
  assert.deepEqual(ours.capacityInterval, [0.8, 0.8]);
  assert.equal(ours.ratio, 0.8);
  assert.equal(ours.addedCpuUs, 5);
  assert.equal(ours.overUnsampledUs, 3);
  assert.equal(ours.passes, 15);
  assert.deepEqual(ours.capacityRoundMedians, [0.8, 0.8, 0.8]);
});

test('a round whose processes read differently widens the interval; a copy of a row is read against it (A/A)', () => {
  const rowsOf = [agents[0], { id: 'none#2', label: 'no agent (again, #2)' }];
  const cellsSliced = [
    sliced('none', 1, [20, 20, 20, 20], [1000, 1000, 1000, 1000]), sliced('none#2', 1, [20, 20, 20, 20], [1000, 1000, 1000, 1000]),
    sliced('none', 2, [20, 20, 20, 20], [1000, 1000, 1000, 1000]), sliced('none#2', 2, [20, 20, 20, 20], [1000, 1000, 1000, 1000]),
    // Round 3's second no-agent process is a slow one for its whole life.
    sliced('none', 3, [20, 20, 20, 20], [1000, 1000, 1000, 1000]), sliced('none#2', 3, [25, 25, 25, 25], [800, 800, 800, 800]),
  ];
  const rows = summarize(cellsSliced, ['http'], rowsOf);
  const copy = rows.find((r) => r.agent === 'none#2');
  assert.equal(copy.copyOf, 'none');
  assert.equal(copy.aa.capacity.median, 1);
  assert.equal(copy.aa.capacity.interval[0], 0.8, 'resampling rounds reaches the slow process');
  assert.equal(copy.aa.capacity.interval[1], 1);
  assert.deepEqual(copy.aa.capacity.roundMedians.map((x) => Math.round(x * 100) / 100), [1, 1, 0.8]);
  const md = toMarkdown({ meta, rows, startup: [], targets: [], subjects: [] });
  assert.match(md, /## A\/A/);
  assert.match(md, /\| http \| no agent \(again, #2\) \| no agent \| 1\.00 \[0\.80, 1\.00\] \| 1\.00 \[0\.80, 1\.00\] \| \+0\.0 µs \[\+0\.0, \+5\.0\] \| 12 \|/);
});
