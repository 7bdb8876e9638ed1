// Issue 20's targets, judged against figures measured in one run. Pure: rows in, verdicts out,
// shared by the overhead harness (run.mjs) and benchmarks/cpu/cpu-per-request.mjs.
import { intervalVerdict } from './intervals.mjs';

/** Throughput of ours (every request sampled) × no agent, per app. */
export const THROUGHPUT_TARGETS = { http: 0.85, express: 0.95, fastify: 0.85, fetch: 0.9 };
/** p99 latency of ours (sampled) × no agent, every app. */
export const P99_MAX_RATIO = 1.2;
/** Server CPU a sampled, exported span may add on top of the same request unsampled, µs. */
export const EXPORTED_SPAN_MAX_US = 2;
/**
 * Server CPU an unsampled request may add over no agent, µs: 1 where AsyncLocalStorage runs on
 * AsyncContextFrame (Node 24+), 2 below, where it is built on async_hooks.
 */
export const unsampledMaxUs = (nodeMajor) => (nodeMajor >= 24 ? 1 : 2);

/**
 * The verdict on one target. `value` is ours (the build under test); null means not measured.
 * @returns {'yes'|'no'|'no (INVALID)'|'not measured'}
 */
export function verdict({ value, valid = true, atMost, atLeast }) {
  if (value == null || !Number.isFinite(value)) return 'not measured';
  if (!valid) return 'no (INVALID)';
  if (atMost != null) return value <= atMost ? 'yes' : 'no';
  return value >= atLeast ? 'yes' : 'no';
}

/**
 * The CPU targets from CPU µs per request of no agent, ours unsampled and ours sampled + export
 * (per-round differences already reduced to a median), and, when given, the p99 target from the
 * sampled + export p99 × no agent's. Used as is by cpu-per-request.
 */
export function cpuTargets({ nodeMajor, unsampledOverNone, sampledOverUnsampled, p99Ratio, valid = true }) {
  const unsampledGoal = unsampledMaxUs(nodeMajor);
  const p99 = p99Ratio === undefined ? [] : [{
    id: 'p99',
    target: 'sampled + export: p99 latency × no agent',
    goal: `≤ ${P99_MAX_RATIO.toFixed(1)}`,
    unit: '×',
    value: p99Ratio,
    met: verdict({ value: p99Ratio, valid, atMost: P99_MAX_RATIO }),
  }];
  return [
    {
      id: 'cpu-exported-span',
      target: 'sampled, exported span: server CPU over unsampled',
      goal: `≤ +${EXPORTED_SPAN_MAX_US} µs`,
      unit: 'µs',
      value: sampledOverUnsampled,
      met: verdict({ value: sampledOverUnsampled, valid, atMost: EXPORTED_SPAN_MAX_US }),
    },
    {
      id: 'cpu-unsampled',
      target: 'unsampled request: server CPU over no agent',
      goal: `≤ +${unsampledGoal} µs (Node ${nodeMajor >= 24 ? '24+' : '< 24'})`,
      unit: 'µs',
      value: unsampledOverNone,
      met: verdict({ value: unsampledOverNone, valid, atMost: unsampledGoal }),
    },
    ...p99,
  ];
}

/**
 * Every target of the overhead run, for ours and, where the same measure applies, for the other
 * rows (an older build of ours, the peers), so that the table reads across. Each value comes with the
 * bootstrap interval of its median (report.mjs); the verdict is read on the interval: "yes" or "no"
 * only when the whole interval is on one side of the goal, else "not resolved".
 * Throughput is judged on the server's capacity ratio (no agent's CPU per request / ours), with the
 * closed loop's req/s ratio beside it (`reqPerSec`): on this machine the load generator's core runs
 * out first on the fast apps, and then req/s measures it.
 * @param {object[]} rows summarize()'s rows
 * @param {object} o
 * @param {number} o.nodeMajor the line the servers ran on
 * @param {{key: string, sampled: string, unsampled?: string}[]} o.subjects columns: first is the one judged
 * @param {string[]} o.apps apps measured
 * @returns {{id: string, app: string, target: string, goal: string, unit: string, values: Record<string, number|null>, intervals: Record<string, [number, number]|null>, valid: Record<string, boolean>, met: string, reqPerSec?: Record<string, number|null>}[]}
 */
export function judgeTargets(rows, { nodeMajor, subjects, apps }) {
  const row = (app, agent) => rows.find((r) => r.app === app && r.agent === agent);
  const out = [];
  const add = (entry, pick, bounds, also) => {
    const values = {};
    const intervals = {};
    const valid = {};
    const alsoValues = also ? {} : undefined;
    for (const s of subjects) {
      const picked = pick(s);
      values[s.key] = picked?.value ?? null;
      intervals[s.key] = picked?.interval ?? null;
      valid[s.key] = picked?.valid ?? false;
      if (also) alsoValues[s.key] = also(s);
    }
    const judged = subjects[0].key;
    const met = values[judged] == null || !Number.isFinite(values[judged])
      ? 'not measured'
      : !valid[judged] ? 'no (INVALID)' : intervalVerdict({ value: values[judged], interval: intervals[judged], ...bounds });
    out.push({ ...entry, values, intervals, valid, met, ...(also ? { reqPerSec: alsoValues } : {}) });
  };
  for (const app of apps) {
    const goal = THROUGHPUT_TARGETS[app];
    if (goal == null) continue;
    add({ id: `throughput-${app}`, app, target: `${app}: throughput × no agent (server capacity, 1 / CPU per request)`, goal: `≥ ${goal.toFixed(2)}`, unit: '×' },
      (s) => pickField(row(app, s.sampled), 'capacityRatio', 'capacityInterval'), { atLeast: goal },
      (s) => row(app, s.sampled)?.ratio ?? null);
  }
  for (const app of apps) {
    add({ id: `p99-${app}`, app, target: `${app}: p99 latency × no agent`, goal: `≤ ${P99_MAX_RATIO.toFixed(1)}`, unit: '×' },
      (s) => pickField(row(app, s.sampled), 'p99Ratio', 'p99Interval'), { atMost: P99_MAX_RATIO });
  }
  if (apps.includes('http')) {
    // The http app makes one span per request, so its CPU per request is CPU per span.
    add({ id: 'cpu-exported-span', app: 'http', target: 'http: sampled, exported span, server CPU over unsampled', goal: `≤ +${EXPORTED_SPAN_MAX_US} µs`, unit: 'µs' },
      (s) => (s.unsampled ? pickField(row('http', s.sampled), 'overUnsampledUs', 'overUnsampledInterval', row('http', s.unsampled)) : null),
      { atMost: EXPORTED_SPAN_MAX_US });
    const goal = unsampledMaxUs(nodeMajor);
    add({ id: 'cpu-unsampled', app: 'http', target: 'http: unsampled request, server CPU over no agent', goal: `≤ +${goal} µs`, unit: 'µs' },
      (s) => (s.unsampled ? pickField(row('http', s.unsampled), 'addedCpuUs', 'addedCpuInterval') : null),
      { atMost: goal });
  }
  return out;
}

function pickField(row, field, intervalField, alsoRow) {
  if (!row) return null;
  return { value: row[field] ?? null, interval: row[intervalField] ?? null, valid: row.valid && (alsoRow ? alsoRow.valid : true) };
}
