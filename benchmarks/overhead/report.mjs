// Turns the raw cells into per-row medians, a Markdown report and the JSON written beside it.

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The issue's targets for our sampled rows: throughput ratio to no agent, per app. */
export const TARGET_RATIO = { http: 0.85, express: 0.95, fastify: 0.85, fetch: 0.9 };

/** Medians per (app, agent) over rounds; ratios and added memory are taken per round first. */
export function summarize(cells, apps, agents) {
  const rows = [];
  for (const app of apps) {
    for (const agent of agents) {
      const mine = cells.filter((c) => c.app === app && c.agent === agent.id);
      if (mine.length === 0) continue;
      const baselineOf = (c) => cells.find((b) => b.app === app && b.round === c.round && b.agent === 'none');
      const perRound = mine.map((c) => {
        const base = baselineOf(c);
        return {
          ratio: c.load && base?.load ? c.load.rps / base.load.rps : null,
          addedRss: c.rssBytes != null && base?.rssBytes != null ? c.rssBytes - base.rssBytes : null,
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
        cpuUsPerRequest: median(mine.map((c) => c.cpuUsPerRequest)),
        rssMb: toMb(median(mine.map((c) => c.rssBytes))),
        addedRssMb: toMb(median(perRound.map((r) => r.addedRss))),
        spansPerRequest: median(mine.map((c) => c.spansPerRequest)),
        target: agent.id === 'ours' ? TARGET_RATIO[app] ?? null : null,
      });
    }
  }
  return rows;
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

const toMb = (bytes) => (bytes == null ? null : bytes / (1024 * 1024));
const fmt = (v, digits = 0) => (v == null ? '—' : v.toFixed(digits));
const signed = (v, digits = 0) => (v == null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);

export function toMarkdown({ meta, rows, startup }) {
  const s = meta.settings;
  const lines = [
    `# Overhead benchmark — ${meta.finishedAt}`,
    '',
    `Node ${meta.node} on ${meta.machine.cpuModel} (${meta.machine.cores} cores, ${meta.machine.memGb} GB), ` +
      `${meta.machine.platform} ${meta.machine.release}; load average ${meta.machine.loadAvgStart} at start, ` +
      `${meta.machine.loadAvgEnd} at end.`,
    `Server pinned to CPU ${meta.pinning.server ?? 'none'}, load generator, sink and backend to CPU ` +
      `${meta.pinning.load ?? 'none'}. ${s.rounds} interleaved rounds × ${s.duration} s per cell ` +
      `(after ${s.warmup} s warm-up), ${s.connections} connections, autocannon ${meta.versions.autocannon}.`,
    `Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    `Command: \`${meta.command}\``,
    '',
    '## Throughput, latency, CPU and memory (medians over rounds)',
    '',
    '"× none" is the throughput ratio to no agent in the same round. INVALID rows did not prove the',
    'agent traced (or was off, for the off rows); their figures are not comparable and are shown in brackets.',
    'Latency percentiles have autocannon\'s resolution of 1 ms; the mean is exact.',
    '',
    '| app | agent | req/s | × none | mean ms | p50 ms | p99 ms | CPU µs/req | RSS MB | +RSS MB | spans/req | valid |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const wrap = (text) => (r.valid ? text : `(${text})`);
    lines.push(`| ${r.app} | ${r.label} | ${wrap(fmt(r.rps))} | ${wrap(fmt(r.ratio, 2))} | ${fmt(r.meanMs, 2)} | ${fmt(r.p50Ms)} | ` +
      `${fmt(r.p99Ms)} | ${fmt(r.cpuUsPerRequest, 1)} | ${fmt(r.rssMb)} | ${signed(r.addedRssMb)} | ` +
      `${fmt(r.spansPerRequest, 2)} | ${r.valid ? 'yes' : `INVALID: ${r.invalid.join('; ')}`} |`);
  }
  lines.push('', '## Start-up (median of ' + s.startupRuns + ' runs)', '',
    '| agent | empty script ms | added | express listening ms | added | errors |', '|---|---:|---:|---:|---:|---|');
  for (const r of startup) {
    lines.push(`| ${r.label} | ${fmt(r.emptyMs)} | ${signed(r.emptyAddedMs)} | ${fmt(r.expressMs)} | ` +
      `${signed(r.expressAddedMs)} | ${r.errors.join('; ') || ''} |`);
  }
  const ours = rows.filter((r) => r.target != null);
  if (ours.length > 0) {
    lines.push('', '## Targets (ours, every request sampled)', '', '| app | target × none | measured | met |', '|---|---:|---:|---|');
    for (const r of ours) {
      const met = !r.valid ? 'no (INVALID)' : r.ratio != null && r.ratio >= r.target ? 'yes' : 'no';
      lines.push(`| ${r.app} | ≥ ${r.target.toFixed(2)} | ${fmt(r.ratio, 2)} | ${met} |`);
    }
  }
  return lines.join('\n') + '\n';
}
