// Side-by-side Markdown of several runs — `npm run bench` on each Node line and, optionally,
// benchmarks/cpu/cpu-per-request.mjs --json — for docs/performance.md and the README.
// Usage: node benchmarks/overhead/combine.mjs results/latest.json results/latest-node24.json [--cpu cpu.json]
//        [--section targets|overhead|cpu]   (default: all three)
import { readFileSync } from 'node:fs';
import { median } from './report.mjs';

const SHORT = {
  none: 'no agent',
  ours: 'ours',
  'ours-before': 'ours before',
  'ours-unsampled': 'ours, unsampled',
  'ours-before-unsampled': 'ours before, unsampled',
  'ours-disabled': 'ours, disabled',
  otel: 'OpenTelemetry',
  dd: 'dd-trace 5',
};

const signed = (v, digits = 1) => (v == null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);
const fixed = (v, digits = 0) => (v == null ? '—' : v.toFixed(digits));
const line = (run) => run.meta.serverNode ?? run.meta.node;

function targetValue(t, key) {
  const v = t.values[key];
  if (v == null) return '—';
  const f = t.unit === '×' ? (x) => x.toFixed(2) : (x) => signed(x);
  const interval = t.intervals?.[key];
  const text = `${f(v)}${t.unit === '×' ? '' : ' µs'}${interval ? ` [${f(interval[0])}, ${f(interval[1])}]` : ''}`;
  return t.valid[key] ? text : `(${text})`;
}

/** One row per target, a group of columns per run: ours before → after, the peers, the verdict. */
export function targetsTable(runs) {
  const ids = [...new Set(runs.flatMap((r) => r.targets.map((t) => t.id)))];
  const head = ['target', 'goal'];
  for (const run of runs) {
    const hasBefore = run.targets.some((t) => 'ours-before' in t.values);
    head.push(`Node ${line(run)}: ours${hasBefore ? ` before (${run.meta.before?.commit ?? '?'}) → after` : ''}`, 'OpenTelemetry / dd-trace', 'met');
  }
  const out = [`| ${head.join(' | ')} |`, `|---|---|${runs.map(() => '---|---|---|').join('')}`];
  for (const id of ids) {
    const per = runs.map((run) => run.targets.find((t) => t.id === id));
    const first = per.find(Boolean);
    const goals = [...new Set(per.filter(Boolean).map((t) => t.goal))];
    const goal = goals.length === 1 ? goals[0] : per.map((t, i) => (t ? `${line(runs[i])}: ${t.goal}` : '')).filter(Boolean).join('; ');
    const cells = [first.target, goal];
    for (const t of per) {
      if (!t) {
        cells.push('—', '—', '—');
        continue;
      }
      const ours = 'ours-before' in t.values ? `${targetValue(t, 'ours-before')} → **${targetValue(t, 'ours')}**` : `**${targetValue(t, 'ours')}**`;
      const peers = ['otel', 'dd'].filter((k) => k in t.values).map((k) => targetValue(t, k)).join(' / ') || '—';
      cells.push(ours, peers, t.met);
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

/** Per app and row: req/s × none, capacity × none (no agent's CPU per request / the row's), p99 × none, CPU µs/req, +CPU µs and +RSS MB, a group of columns per run. */
export function overheadTable(runs) {
  const head = ['app', 'row'];
  for (const run of runs) {
    const n = line(run);
    head.push(`× none (${n})`, 'capacity × none', `p99 × none`, 'CPU µs/req', '+CPU µs', '+RSS MB');
  }
  const out = [`| ${head.join(' | ')} |`, `|---|---|${runs.map(() => '---:|---:|---:|---:|---:|---:|').join('')}`];
  const keys = [];
  for (const run of runs) {
    for (const r of run.rows) if (!keys.some((k) => k.app === r.app && k.agent === r.agent)) keys.push({ app: r.app, agent: r.agent });
  }
  for (const { app, agent } of keys) {
    const cells = [app, SHORT[agent] ?? agent];
    for (const run of runs) {
      const r = run.rows.find((x) => x.app === app && x.agent === agent);
      if (!r) {
        cells.push('—', '—', '—', '—', '—', '—');
        continue;
      }
      const wrap = (text) => (r.valid ? text : `(${text})`);
      cells.push(wrap(fixed(r.ratio, 2)), wrap(fixed(r.capacityRatio, 2)), wrap(fixed(r.p99Ratio, 2)), wrap(fixed(r.cpuUsPerRequest, 1)), wrap(signed(r.addedCpuUs)), wrap(signed(r.addedRssMb, 0)));
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

const KIND_LABEL = {
  none: 'no agent',
  otlp: 'sampled + OTLP export',
  'exporter-none': 'sampled, exporter none',
  unsampled: 'unsampled',
  grpc: 'sampled + OTLP/gRPC export',
};

/** cpu-per-request's JSON: its figures (cpuRowsTable) and its targets (cpuTargetsTable). */
export function cpuTable(cpu) {
  return `${cpuRowsTable(cpu)}\n\n${cpuTargetsTable(cpu)}`;
}

/** cpu-per-request's JSON as one row per Node line and variant, builds side by side. */
export function cpuRowsTable(cpu) {
  const builds = [...new Set(cpu.variants.map((v) => v.build).filter(Boolean))];
  const versions = [...new Set(cpu.variants.map((v) => v.version))];
  const medianOf = (v, field) => (v ? median(v.rounds.map((r) => r[field])) : null);
  const series = (v) => (v ? `${medianOf(v, 'cpuUsPerReq').toFixed(1)} (${v.rounds.map((r) => r.cpuUsPerReq.toFixed(1)).join(', ')})` : '—');
  const head = ['Node', 'variant', ...builds.map((b) => `${b}: µs/req (median; rounds)`), `+ vs no agent, ${builds.join(' → ')}`, `p99 ms, ${builds.join(' / ')}`, `peak RSS MB, ${builds.join(' / ')}`];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const version of versions) {
    const none = cpu.variants.find((v) => v.version === version && v.kind === 'none');
    const noneCpu = medianOf(none, 'cpuUsPerReq');
    if (none) {
      const cells = [version, 'no agent', series(none), ...builds.slice(1).map(() => '(same run)'), '', fixed(medianOf(none, 'p99'), 1), fixed(medianOf(none, 'rss'))];
      out.push(`| ${cells.join(' | ')} |`);
    }
    const kinds = [...new Set(cpu.variants.filter((v) => v.version === version && v.kind !== 'none').map((v) => v.kind))];
    for (const kind of kinds) {
      const per = builds.map((b) => cpu.variants.find((v) => v.version === version && v.kind === kind && v.build === b));
      const deltas = per.map((v) => (v && noneCpu != null ? signed(medianOf(v, 'cpuUsPerReq') - noneCpu) : '—')).join(' → ');
      out.push(`| ${version} | ${KIND_LABEL[kind] ?? kind} | ${per.map(series).join(' | ')} | ${deltas} | ` +
        `${per.map((v) => fixed(medianOf(v, 'p99'), 1)).join(' / ')} | ${per.map((v) => fixed(medianOf(v, 'rss'))).join(' / ')} |`);
    }
  }
  return out.join('\n');
}

/** cpu-per-request's CPU targets, one row per Node line and build. */
export function cpuTargetsTable(cpu) {
  const withP99 = cpu.targets.some((r) => r.targets[2]);
  const out = [`| Node | build | sampled + OTLP over unsampled | goal | met | unsampled over no agent | goal | met |${withP99 ? ' sampled + OTLP p99 × no agent | goal | met |' : ''}`,
    `|---|---|---|---|---|---|---|---|${withP99 ? '---|---|---|' : ''}`];
  for (const r of cpu.targets) {
    const [span, unsampled, p99] = r.targets;
    const us = (v) => (v == null ? '—' : `${signed(v)} µs`);
    const p99Cells = !withP99 ? '' : p99 ? ` ${fixed(p99.value, 2)} | ${p99.goal} | ${p99.met} |` : ' — | — | — |';
    out.push(`| ${r.version} | ${r.build} | ${us(span.value)} | ${span.goal} | ${span.met} | ${us(unsampled.value)} | ${unsampled.goal} | ${unsampled.met} |${p99Cells}`);
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const args = process.argv.slice(2);
  const take = (flag) => {
    const at = args.indexOf(flag);
    if (at === -1) return null;
    const [value] = args.splice(at, 2).slice(1);
    return value;
  };
  const cpuPath = take('--cpu');
  const section = take('--section');
  const runs = args.map((p) => JSON.parse(readFileSync(p, 'utf8')));
  const parts = [];
  if (runs.length && (!section || section === 'targets')) parts.push(targetsTable(runs));
  if (runs.length && (!section || section === 'overhead')) parts.push(overheadTable(runs));
  if (cpuPath && (!section || section === 'cpu')) parts.push(cpuTable(JSON.parse(readFileSync(cpuPath, 'utf8'))));
  process.stdout.write(parts.join('\n\n') + '\n');
}
