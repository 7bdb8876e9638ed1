// Turns the raw cells into per-row medians, a Markdown report and the JSON written beside it.
import { judgeTargets } from './targets.mjs';

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Medians per (app, agent) over rounds. Everything relative (× none, added CPU and memory, CPU over
 * the unsampled twin) is taken within a round first, then the median over rounds: a noisy minute
 * moves both sides of a pair.
 */
export function summarize(cells, apps, agents) {
  const rows = [];
  for (const app of apps) {
    for (const agent of agents) {
      const mine = cells.filter((c) => c.app === app && c.agent === agent.id);
      if (mine.length === 0) continue;
      const inRound = (c, id) => cells.find((b) => b.app === app && b.round === c.round && b.agent === id);
      const perRound = mine.map((c) => {
        const base = inRound(c, 'none');
        const twin = agent.unsampled ? inRound(c, agent.unsampled) : undefined;
        return {
          ratio: c.load && base?.load ? c.load.rps / base.load.rps : null,
          p99Ratio: c.load && base?.load && base.load.p99Ms > 0 ? c.load.p99Ms / base.load.p99Ms : null,
          addedCpu: difference(c.cpuUsPerRequest, base?.cpuUsPerRequest),
          overUnsampled: difference(c.cpuUsPerRequest, twin?.cpuUsPerRequest),
          addedRss: difference(c.rssBytes, base?.rssBytes),
        };
      });
      const invalid = [...new Set(mine.flatMap((c) => c.invalid))];
      rows.push({
        app,
        agent: agent.id,
        label: agent.label,
        rounds: mine.length,
        valid: invalid.length === 0,
        invalid,
        rps: median(mine.map((c) => c.load?.rps)),
        ratio: median(perRound.map((r) => r.ratio)),
        meanMs: median(mine.map((c) => c.load?.meanMs)),
        p50Ms: median(mine.map((c) => c.load?.p50Ms)),
        p99Ms: median(mine.map((c) => c.load?.p99Ms)),
        p99Ratio: median(perRound.map((r) => r.p99Ratio)),
        cpuUsPerRequest: median(mine.map((c) => c.cpuUsPerRequest)),
        addedCpuUs: median(perRound.map((r) => r.addedCpu)),
        overUnsampledUs: agent.unsampled ? median(perRound.map((r) => r.overUnsampled)) : null,
        rssMb: toMb(median(mine.map((c) => c.rssBytes))),
        addedRssMb: toMb(median(perRound.map((r) => r.addedRss))),
        spansPerRequest: median(mine.map((c) => c.spansPerRequest)),
        otherOnServerCore: median(mine.map((c) => c.cores?.otherOnServerCore)),
        loadCore: median(mine.map((c) => c.cores?.loadCore)),
        disturbed: mine.filter(isDisturbed).length,
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

export function toMarkdown({ meta, rows, startup, targets, subjects }) {
  const s = meta.settings;
  const lines = [
    `# Overhead benchmark — Node ${meta.serverNode ?? meta.node} — ${meta.finishedAt}`,
    '',
    `Servers on Node ${meta.serverNode ?? meta.node} (load generator, sink and backend on Node ${meta.node}) on ` +
      `${meta.machine.cpuModel} (${meta.machine.cores} cores, ${meta.machine.memGb} GB), ` +
      `${meta.machine.platform} ${meta.machine.release}; load average ${meta.machine.loadAvgStart} at start, ` +
      `${meta.machine.loadAvgEnd} at end.`,
    `Server pinned to CPU ${meta.pinning.server ?? 'none'}, load generator, sink and backend to CPU ` +
      `${meta.pinning.load ?? 'none'}. ${s.rounds} interleaved rounds × ${s.duration} s per cell ` +
      `(after ${s.warmup} s warm-up), ${s.connections} connections, autocannon ${meta.versions.autocannon}.`,
    `Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    `Command: \`${meta.command}\``,
  ];
  if (targets?.length) {
    const judged = subjects[0];
    lines.push('', `## Targets (issue 20; judged on ${judged.label})`, '',
      'Ratios and differences are taken within a round, then the median over rounds. CPU is the server\'s,',
      'all threads, per request answered under load. Values of INVALID rows are in brackets; "disturbed"',
      'counts the cells behind a figure whose cores were taken by other work (below).', '',
      `| target | goal | ${subjects.map((x) => x.label).join(' | ')} | met |`,
      `|---|---|${subjects.map(() => '---:|').join('')}---|`);
    for (const t of targets) {
      const cells = subjects.map((x) => {
        const v = t.values[x.key];
        const text = v == null ? '—' : t.unit === '×' ? v.toFixed(2) : `${signed(v, 1)} µs`;
        const marked = `${text}${disturbedMark(rows, t.app, x)}`;
        return v != null && !t.valid[x.key] ? `(${marked})` : marked;
      });
      lines.push(`| ${t.target} | ${t.goal} | ${cells.join(' | ')} | ${t.met} |`);
    }
  }
  lines.push('', '## Throughput, latency, CPU and memory (medians over rounds)', '',
    '"× none" is the ratio to no agent in the same round; "+CPU" the server CPU per request over no agent in',
    'the same round. INVALID rows did not prove the agent traced (or was off, for the off rows); their',
    'figures are not comparable and are shown in brackets. Latency is measured per response by the load',
    'generator to 10 µs. "other / load core": the median share of the server\'s core taken by other work,',
    'and of the load generator\'s core in use, during the timed load; "disturbed": the cells (of the rounds)',
    `where other work took over ${DISTURBED.otherOnServerCore} of the server's core or the load core reached ${DISTURBED.loadCore}: read such rows as the machine's.`, '',
    '| app | agent | req/s | × none | p50 ms | p99 ms | p99 × none | CPU µs/req | +CPU µs | RSS MB | +RSS MB | spans/req | other / load core | disturbed | valid |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const wrap = (text) => (r.valid ? text : `(${text})`);
    lines.push(`| ${r.app} | ${r.label} | ${wrap(fmt(r.rps))} | ${wrap(fmt(r.ratio, 2))} | ${fmt(r.p50Ms, 2)} | ` +
      `${fmt(r.p99Ms, 2)} | ${fmt(r.p99Ratio, 2)} | ${fmt(r.cpuUsPerRequest, 1)} | ${signed(r.addedCpuUs, 1)} | ${fmt(r.rssMb)} | ` +
      `${signed(r.addedRssMb)} | ${fmt(r.spansPerRequest, 2)} | ${fmt(r.otherOnServerCore, 2)} / ${fmt(r.loadCore, 2)} | ` +
      `${r.disturbed}/${r.rounds} | ${r.valid ? 'yes' : `INVALID: ${r.invalid.join('; ')}`} |`);
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

/**
 * ", n of m cells disturbed" after a target's figure when any cell it is made of (the subject's sampled
 * and unsampled rows and no agent, in that app) was disturbed (isDisturbed): such a figure is the machine's.
 */
function disturbedMark(rows, app, subject) {
  const ids = new Set(['none', subject.sampled, subject.unsampled].filter(Boolean));
  const mine = rows.filter((r) => r.app === app && ids.has(r.agent));
  const disturbed = mine.reduce((n, r) => n + (r.disturbed ?? 0), 0);
  const cells = mine.reduce((n, r) => n + (r.rounds ?? 0), 0);
  return disturbed > 0 ? `, ${disturbed} of ${cells} cells disturbed` : '';
}

/** Targets of a run, from its rows: see targets.mjs. */
export function targetsOf(rows, { agents, apps, nodeMajor }) {
  const subjects = targetSubjects(agents);
  if (!agents.some((a) => a.id === 'ours')) return { subjects, targets: [] };
  return { subjects, targets: judgeTargets(rows, { nodeMajor, subjects, apps }) };
}
