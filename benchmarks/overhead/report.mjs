// Turns the raw cells into per-row medians, a Markdown report and the JSON written beside it.
import { summarizePasses } from './intervals.mjs';
import { judgeTargets } from './targets.mjs';

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * A cell's slices; a cell measured in one block (an older result, a test) is one slice of pass 1.
 * @returns {{pass: number, cpuUsPerRequest: number|null, rps: number|null, p99Ms: number|null}[]}
 */
export function slicesOf(cell) {
  if (cell.slices?.length) return cell.slices;
  if (!cell.load) return [];
  return [{ pass: 1, cpuUsPerRequest: cell.cpuUsPerRequest ?? null, rps: cell.load.rps, p99Ms: cell.load.p99Ms, cores: cell.cores }];
}

/**
 * Per (app, agent): every relative figure is taken per pass — this row's slice against no agent's
 * (or its unsampled twin's) slice of the same pass, seconds apart, so a change of the machine's state
 * lands on both — then summarised over all passes of all rounds: the median and a bootstrap interval
 * (intervals.mjs). Figures:
 * - capacityRatio: no agent's server CPU per request / this row's. A server pinned to one core serves
 *   at most 1 / (CPU per request) requests a second, so this is the throughput ratio of the server
 *   itself, whether or not the load generator's core kept up. The throughput targets are judged on it.
 * - ratio: req/s / no agent's req/s in the same pass (closed loop: also what the load core allowed).
 * - p99Ratio, addedCpuUs (CPU per request over no agent), overUnsampledUs (over the unsampled twin).
 */
export function summarize(cells, apps, agents, { seed = 1 } = {}) {
  const rows = [];
  for (const app of apps) {
    for (const agent of agents) {
      const mine = cells.filter((c) => c.app === app && c.agent === agent.id);
      if (mine.length === 0) continue;
      const inRound = (c, id) => cells.find((b) => b.app === app && b.round === c.round && b.agent === id);
      // A copy (`<id>#<n>`, or a before build of the same commit: an A/A row) is also read against the
      // row it copies: 1.00 and 0 expected.
      const original = agent.copyOf ?? /^(.+)#\d+$/.exec(agent.id)?.[1];
      const figures = { capacityRatio: [], ratio: [], p99Ratio: [], addedCpu: [], overUnsampled: [], aaCapacity: [], aaRatio: [], aaCpu: [] };
      for (const c of mine) {
        const base = inRound(c, 'none');
        const orig = original ? inRound(c, original) : undefined;
        const twin = agent.unsampled ? inRound(c, agent.unsampled) : undefined;
        const at = (other, pass) => (other ? slicesOf(other).find((x) => x.pass === pass) : undefined);
        const perPass = { capacityRatio: [], ratio: [], p99Ratio: [], addedCpu: [], overUnsampled: [], aaCapacity: [], aaRatio: [], aaCpu: [] };
        for (const s of slicesOf(c)) {
          const b = at(base, s.pass);
          const t = at(twin, s.pass);
          const o = at(orig, s.pass);
          perPass.aaCapacity.push(o?.cpuUsPerRequest > 0 && s.cpuUsPerRequest > 0 ? o.cpuUsPerRequest / s.cpuUsPerRequest : null);
          perPass.aaRatio.push(o?.rps > 0 && s.rps != null ? s.rps / o.rps : null);
          perPass.aaCpu.push(difference(s.cpuUsPerRequest, o?.cpuUsPerRequest));
          perPass.capacityRatio.push(b?.cpuUsPerRequest > 0 && s.cpuUsPerRequest > 0 ? b.cpuUsPerRequest / s.cpuUsPerRequest : null);
          perPass.ratio.push(b?.rps > 0 && s.rps != null ? s.rps / b.rps : null);
          perPass.p99Ratio.push(b?.p99Ms > 0 && s.p99Ms != null ? s.p99Ms / b.p99Ms : null);
          perPass.addedCpu.push(difference(s.cpuUsPerRequest, b?.cpuUsPerRequest));
          perPass.overUnsampled.push(difference(s.cpuUsPerRequest, t?.cpuUsPerRequest));
        }
        for (const k of Object.keys(figures)) figures[k].push(perPass[k]);
      }
      const sum = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, summarizePasses(v, { seed })]));
      const invalid = [...new Set(mine.flatMap((c) => c.invalid))];
      const slices = mine.flatMap(slicesOf);
      const perRoundRss = mine.map((c) => difference(c.rssBytes, inRound(c, 'none')?.rssBytes));
      rows.push({
        app,
        agent: agent.id,
        label: agent.label,
        rounds: mine.length,
        passes: slices.length,
        valid: invalid.length === 0,
        invalid,
        rps: median(mine.map((c) => c.load?.rps)),
        ratio: sum.ratio.median,
        ratioInterval: sum.ratio.interval,
        capacityRatio: sum.capacityRatio.median,
        capacityInterval: sum.capacityRatio.interval,
        capacityRoundMedians: sum.capacityRatio.roundMedians,
        meanMs: median(mine.map((c) => c.load?.meanMs)),
        p50Ms: median(mine.map((c) => c.load?.p50Ms)),
        p99Ms: median(mine.map((c) => c.load?.p99Ms)),
        p99Ratio: sum.p99Ratio.median,
        p99Interval: sum.p99Ratio.interval,
        cpuUsPerRequest: median(mine.map((c) => c.cpuUsPerRequest)),
        addedCpuUs: sum.addedCpu.median,
        addedCpuInterval: sum.addedCpu.interval,
        overUnsampledUs: agent.unsampled ? sum.overUnsampled.median : null,
        overUnsampledInterval: agent.unsampled ? sum.overUnsampled.interval : null,
        rssMb: toMb(median(mine.map((c) => c.rssBytes))),
        addedRssMb: toMb(median(perRoundRss)),
        spansPerRequest: median(mine.map((c) => c.spansPerRequest)),
        otherOnServerCore: median(slices.map((x) => x.cores?.otherOnServerCore)),
        loadCore: median(slices.map((x) => x.cores?.loadCore)),
        disturbed: slices.filter(isDisturbed).length,
        ...(original ? { copyOf: original, aa: { capacity: sum.aaCapacity, ratio: sum.aaRatio, cpu: sum.aaCpu } } : {}),
      });
    }
  }
  return rows;
}

/** Other work above which a cell's server core was shared, and the load core's share at which it ran out. */
export const DISTURBED = { otherOnServerCore: 0.1, loadCore: 0.95 };

/**
 * A cell whose figures say more about the machine than about the agent: other work took over a tenth of
 * the server's core (its CPU per request then rises with it, not by a fixed share), or the load
 * generator's core (autocannon, the sink, the fetch app's backend) was saturated, so that the server
 * waited for it and req/s measured the load core.
 */
export function isDisturbed(cell) {
  const c = cell.cores;
  return !!c && ((c.otherOnServerCore ?? 0) > DISTURBED.otherOnServerCore || (c.loadCore ?? 0) >= DISTURBED.loadCore);
}

export function summarizeStartup(samples, agents) {
  const base = (kind) => median(samples.filter((s) => s.agent === 'none' && s.kind === kind).map((s) => s.ms));
  return agents.map((agent) => {
    const row = { agent: agent.id, label: agent.label, errors: [] };
    for (const kind of ['empty', 'express']) {
      const mine = samples.filter((s) => s.agent === agent.id && s.kind === kind);
      row.errors.push(...new Set(mine.filter((s) => s.error).map((s) => `${kind}: ${s.error}`)));
      const ms = median(mine.map((s) => s.ms));
      const b = base(kind);
      row[`${kind}Ms`] = ms;
      row[`${kind}AddedMs`] = ms != null && b != null ? ms - b : null;
    }
    return row;
  });
}

const difference = (a, b) => (a == null || b == null ? null : a - b);
const toMb = (bytes) => (bytes == null ? null : bytes / (1024 * 1024));
const fmt = (v, digits = 0) => (v == null ? '—' : v.toFixed(digits));
const signed = (v, digits = 0) => (v == null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);

/** Columns of the targets table: ours first (the one judged), then the rows that can be compared. */
export function targetSubjects(agents) {
  const has = (id) => agents.some((a) => a.id === id);
  const subjects = [{ key: 'ours', sampled: 'ours', unsampled: has('ours-unsampled') ? 'ours-unsampled' : undefined }];
  if (has('ours-before')) {
    subjects.push({ key: 'ours-before', sampled: 'ours-before', unsampled: has('ours-before-unsampled') ? 'ours-before-unsampled' : undefined });
  }
  for (const peer of ['otel', 'dd']) if (has(peer)) subjects.push({ key: peer, sampled: peer });
  return subjects.map((s) => ({ ...s, label: agents.find((a) => a.id === s.sampled)?.label ?? s.key }));
}

/** "0.91 [0.88, 0.94]": a median with its interval (unit: × or µs). */
export function withInterval(value, interval, unit = '×') {
  if (value == null) return '—';
  const f = unit === '×' ? (x) => x.toFixed(2) : (x) => signed(x, 1);
  const text = `${f(value)}${unit === '×' ? '' : ' µs'}`;
  return interval ? `${text} [${f(interval[0])}, ${f(interval[1])}]` : text;
}

export function toMarkdown({ meta, rows, startup, targets, subjects }) {
  const s = meta.settings;
  const passes = Math.max(1, Math.round(s.duration / (s.slice ?? s.duration)));
  const lines = [
    `# Overhead benchmark — Node ${meta.serverNode ?? meta.node} — ${meta.finishedAt}`,
    '',
    `Servers on Node ${meta.serverNode ?? meta.node} (load generator, sink and backend on Node ${meta.node}) on ` +
      `${meta.machine.cpuModel} (${meta.machine.cores} cores, ${meta.machine.memGb} GB), ` +
      `${meta.machine.platform} ${meta.machine.release}; load average ${meta.machine.loadAvgStart} at start, ` +
      `${meta.machine.loadAvgEnd} at end.`,
    `Server pinned to CPU ${meta.pinning.server ?? 'none'}, load generator, sink and backend to CPU ` +
      `${meta.pinning.load ?? 'none'}. ${s.rounds} rounds (fresh servers each); in a round every row's server is alive ` +
      `and loaded in ${passes} passes of one ${s.slice ?? s.duration} s slice per row, in a shuffled order ` +
      `(seed ${s.seed ?? '—'}), after an interleaved warm-up of ${s.warmup} s and ${s.warmupRequests ?? 0} requests per server; ${s.connections} connections, autocannon ${meta.versions.autocannon}.`,
    `Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    `Command: \`${meta.command}\``,
  ];
  if (targets?.length) {
    const judged = subjects[0];
    lines.push('', `## Targets (issue 20; judged on ${judged.label})`, '',
      'Each figure is taken per pass (a row\'s slice against no agent\'s, or its unsampled twin\'s, seconds apart),',
      'then the median over all passes and, in brackets, the 95 % bootstrap interval of that median (rounds, then',
      'passes, resampled). "yes" / "no" only when the whole interval is on one side of the goal; else "not resolved".',
      'Throughput is the server\'s capacity ratio, no agent\'s CPU per request / the row\'s (all threads of the',
      'server, pinned to one core); the closed loop\'s req/s ratio follows it. Values of INVALID rows are in parentheses.', '',
      `| target | goal | ${subjects.map((x) => x.label).join(' | ')} | met |`,
      `|---|---|${subjects.map(() => '---:|').join('')}---|`);
    for (const t of targets) {
      const cells = subjects.map((x) => {
        const v = t.values[x.key];
        let text = withInterval(v, t.intervals?.[x.key], t.unit);
        if (t.reqPerSec?.[x.key] != null) text += `; req/s ${t.reqPerSec[x.key].toFixed(2)}`;
        return v != null && !t.valid[x.key] ? `(${text})` : text;
      });
      lines.push(`| ${t.target} | ${t.goal} | ${cells.join(' | ')} | ${t.met} |`);
    }
  }
  lines.push('', '## Throughput, latency, CPU and memory', '',
    '"capacity × none": no agent\'s server CPU per request / the row\'s, per pass; "req/s × none": the closed loop\'s',
    'req/s against no agent\'s in the same pass; "p99 × none" likewise; "+CPU": the server CPU per request over no',
    'agent\'s in the same pass. Medians over all passes, [95 % bootstrap interval]. req/s, p50, p99 and CPU µs/req',
    'are each row\'s own figures over its slices (median over rounds). INVALID rows did not prove the agent traced',
    '(or was off, for the off rows); their figures are in parentheses. "other / load core": the median share of the',
    'server\'s core taken by other work and of the load generator\'s core in use, per slice; "disturbed": slices where',
    `other work took over ${DISTURBED.otherOnServerCore} of the server's core or the load core reached ${DISTURBED.loadCore} (with slices interleaved this hits`,
    'every row alike; many such slices say the req/s ratio is the load generator\'s, read capacity instead).', '',
    '| app | agent | req/s | req/s × none | capacity × none | p50 ms | p99 ms | p99 × none | CPU µs/req | +CPU µs | RSS MB | +RSS MB | spans/req | other / load core | disturbed | valid |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const wrap = (text) => (r.valid ? text : `(${text})`);
    const base = r.agent === 'none';
    lines.push(`| ${r.app} | ${r.label} | ${wrap(fmt(r.rps))} | ${base ? '1' : wrap(withInterval(r.ratio, r.ratioInterval))} | ` +
      `${base ? '1' : wrap(withInterval(r.capacityRatio, r.capacityInterval))} | ${fmt(r.p50Ms, 2)} | ` +
      `${fmt(r.p99Ms, 2)} | ${base ? '1' : withInterval(r.p99Ratio, r.p99Interval)} | ${fmt(r.cpuUsPerRequest, 1)} | ` +
      `${base ? '' : withInterval(r.addedCpuUs, r.addedCpuInterval, 'µs')} | ${fmt(r.rssMb)} | ` +
      `${signed(r.addedRssMb)} | ${fmt(r.spansPerRequest, 2)} | ${fmt(r.otherOnServerCore, 2)} / ${fmt(r.loadCore, 2)} | ` +
      `${r.disturbed}/${r.passes ?? r.rounds} | ${r.valid ? 'yes' : `INVALID: ${r.invalid.join('; ')}`} |`);
  }
  const copies = rows.filter((r) => r.copyOf);
  if (copies.length) {
    lines.push('', '## A/A: a row against a second row of the same agent', '',
      'Both rows run the same agent in their own processes, interleaved like every row: whatever the figures below',
      'show besides 1.00 and 0 is the harness\'s own spread on this machine at this time.', '',
      '| app | row | against | capacity × | req/s × | +CPU µs | passes |', '|---|---|---|---:|---:|---:|---:|');
    for (const r of copies) {
      const of = rows.find((x) => x.app === r.app && x.agent === r.copyOf);
      lines.push(`| ${r.app} | ${r.label} | ${of?.label ?? r.copyOf} | ${withInterval(r.aa.capacity.median, r.aa.capacity.interval)} | ` +
        `${withInterval(r.aa.ratio.median, r.aa.ratio.interval)} | ${withInterval(r.aa.cpu.median, r.aa.cpu.interval, 'µs')} | ${r.aa.capacity.passes} |`);
    }
  }
  if (startup?.length && s.startupRuns > 0) {
    lines.push('', '## Start-up (median of ' + s.startupRuns + ' runs)', '',
      '| agent | empty script ms | added | express listening ms | added | errors |', '|---|---:|---:|---:|---:|---|');
    for (const r of startup) {
      lines.push(`| ${r.label} | ${fmt(r.emptyMs)} | ${signed(r.emptyAddedMs)} | ${fmt(r.expressMs)} | ` +
        `${signed(r.expressAddedMs)} | ${r.errors.join('; ') || ''} |`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Targets of a run, from its rows: see targets.mjs. */
export function targetsOf(rows, { agents, apps, nodeMajor }) {
  const subjects = targetSubjects(agents);
  if (!agents.some((a) => a.id === 'ours')) return { subjects, targets: [] };
  return { subjects, targets: judgeTargets(rows, { nodeMajor, subjects, apps }) };
}
