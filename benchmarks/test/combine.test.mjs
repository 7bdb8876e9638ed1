// The side-by-side tables go into the docs as they are: a verdict or a value must never land in
// another line's column, and an invalid value must stay bracketed.
import assert from 'node:assert/strict';
import test from 'node:test';
import { cpuTable, overheadTable, targetsTable } from '../overhead/combine.mjs';

const target = (id, goal, values, met, valid = {}) => ({
  id, target: id, goal, unit: id.startsWith('cpu') ? 'µs' : '×', values,
  valid: Object.fromEntries(Object.keys(values).map((k) => [k, valid[k] ?? true])), met,
});
const run = (serverNode, targets, rows = []) => ({ meta: { serverNode, before: { commit: 'abc1234' } }, targets, rows });

test('targets of two Node lines side by side, each with its own goal and verdict', () => {
  const n20 = run('v20.20.2', [
    target('throughput-http', '≥ 0.85', { ours: 0.9, 'ours-before': 0.6, otel: 0.2, dd: 0.1 }, 'yes'),
    target('cpu-unsampled', '≤ +2 µs', { ours: 1.5, 'ours-before': 2.5 }, 'yes'),
  ]);
  const n24 = run('v24.21.0', [
    target('throughput-http', '≥ 0.85', { ours: 0.8, 'ours-before': 0.7, otel: 0.3, dd: 0.2 }, 'no (INVALID)', { ours: false }),
    target('cpu-unsampled', '≤ +1 µs', { ours: 1.5, 'ours-before': 2.5 }, 'no'),
  ]);
  const lines = targetsTable([n20, n24]).split('\n');
  assert.match(lines[0], /Node v20\.20\.2: ours before \(abc1234\) → after .* Node v24\.21\.0: ours before \(abc1234\) → after/);
  assert.equal(lines[2], '| throughput-http | ≥ 0.85 | 0.60 → **0.90** | 0.20 / 0.10 | yes | 0.70 → **(0.80)** | 0.30 / 0.20 | no (INVALID) |');
  assert.equal(lines[3], '| cpu-unsampled | v20.20.2: ≤ +2 µs; v24.21.0: ≤ +1 µs | +2.5 µs → **+1.5 µs** | — | yes | +2.5 µs → **+1.5 µs** | — | no |');
  n20.targets[0].intervals = { ours: [0.86, 0.93], 'ours-before': null };
  assert.match(targetsTable([n20]).split('\n')[2], /\| 0\.60 → \*\*0\.90 \[0\.86, 0\.93\]\*\* \|/);
});

test('overhead rows line up by app and row across runs, a row missing from one run is a dash', () => {
  const row = (agent, ratio, valid = true) => ({ app: 'http', agent, valid, ratio, capacityRatio: ratio + 0.05, p99Ratio: 1, cpuUsPerRequest: 20, addedCpuUs: 1, addedRssMb: 10 });
  const table = overheadTable([run('v20', [], [row('none', 1), row('ours', 0.8, false)]), run('v24', [], [row('none', 1), row('ours', 0.9), row('otel', 0.3)])]);
  const lines = table.split('\n');
  assert.equal(lines[3], '| http | ours | (0.80) | (0.85) | (1.00) | (20.0) | (+1.0) | (+10) | 0.90 | 0.95 | 1.00 | 20.0 | +1.0 | +10 |');
  assert.equal(lines[4], '| http | OpenTelemetry | — | — | — | — | — | — | 0.30 | 0.35 | 1.00 | 20.0 | +1.0 | +10 |');
});

test('cpu-per-request builds side by side with the added CPU over no agent of each', () => {
  const rounds = (...cpu) => cpu.map((c) => ({ cpuUsPerReq: c, p99: 1, rss: 60 }));
  const cpu = {
    variants: [
      { version: 'v24', build: null, kind: 'none', rounds: rounds(20, 22, 21) },
      { version: 'v24', build: 'old', kind: 'unsampled', rounds: rounds(25, 24, 26) },
      { version: 'v24', build: 'new', kind: 'unsampled', rounds: rounds(22, 21, 23) },
    ],
    targets: [{ version: 'v24', build: 'new', targets: [
      { value: null, goal: '≤ +2 µs', met: 'not measured' }, { value: 1, goal: '≤ +1 µs (Node 24+)', met: 'yes' }] }],
  };
  const lines = cpuTable(cpu).split('\n');
  assert.equal(lines[2], '| v24 | no agent | 21.0 (20.0, 22.0, 21.0) | (same run) |  | 1.0 | 60 |');
  assert.equal(lines[3], '| v24 | unsampled | 25.0 (25.0, 24.0, 26.0) | 22.0 (22.0, 21.0, 23.0) | +4.0 → +1.0 | 1.0 / 1.0 | 60 / 60 |');
  assert.equal(lines.at(-1), '| v24 | new | — | ≤ +2 µs | not measured | +1.0 µs | ≤ +1 µs (Node 24+) | yes |');
  cpu.targets[0].targets.push({ value: 1.25, goal: '≤ 1.2', met: 'no' });
  assert.equal(cpuTable(cpu).split('\n').at(-1), '| v24 | new | — | ≤ +2 µs | not measured | +1.0 µs | ≤ +1 µs (Node 24+) | yes | 1.25 | ≤ 1.2 | no |');
});
