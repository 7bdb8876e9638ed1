// The slices split in time (BENCH_SPLIT_MS, a diagnosis; round fifteen): a server waits seconds between
// its slices while the other rows run, so the first milliseconds of a slice may cost more a request than
// the rest (caches, code or heap left cold by the wait). The load generator reads the server's CPU and its
// responses at marks within each slice (slice-load-child.mjs); here each slice becomes segments between
// marks, and each row gets its CPU a request before and after the first mark, the difference of the two
// within the same server and slice, and the pass-paired figures of report.mjs over the later part only.
import { summarizePasses } from './intervals.mjs';
import { median } from './report.mjs';

/**
 * A slice's segments: `[{ fromMs, toMs, requests, cpuUs, mainCpuUs }]` between consecutive marks (the
 * first mark is the slice's start, the last its end), or null when the slice has no complete set of marks
 * (a timer that fired after the load ended, a server gone, an older result).
 */
export function segmentsOf(slice, markCount) {
  const m = slice.marks;
  if (!m || m.length !== markCount + 2 || m.some((x) => x.cpuNs == null)) return null;
  const out = [];
  for (let i = 1; i < m.length; i++) {
    out.push({
      fromMs: m[i - 1].ms, toMs: m[i].ms, requests: m[i].responses - m[i - 1].responses,
      cpuUs: (m[i].cpuNs - m[i - 1].cpuNs) / 1000, mainCpuUs: (m[i].mainCpuNs - m[i - 1].mainCpuNs) / 1000,
    });
  }
  return out;
}

const perRequest = (segs, field) => {
  const requests = segs.reduce((a, s) => a + s.requests, 0);
  return requests > 0 ? segs.reduce((a, s) => a + s[field], 0) / requests : null;
};

/** A slice's CPU µs a request before the first mark (`early`) and after it (`late`), all threads and main. */
export function splitOf(slice, markCount) {
  const segs = segmentsOf(slice, markCount);
  if (!segs) return null;
  const [first, ...rest] = segs;
  return {
    early: perRequest([first], 'cpuUs'), late: perRequest(rest, 'cpuUs'),
    earlyMain: perRequest([first], 'mainCpuUs'), lateMain: perRequest(rest, 'mainCpuUs'),
    earlyMs: first.toMs - first.fromMs, earlyRequests: first.requests,
  };
}

const difference = (a, b) => (a == null || b == null ? null : a - b);

/**
 * Per (app, agent) with split slices: median early / late CPU a request; the within-slice difference
 * early − late (all threads and main thread) with its interval; and, per pass, late − no agent's late and
 * late − the unsampled twin's late (the exported-span figure over the slices' later part), each with its
 * interval, beside the same over the early part.
 */
export function summarizeSplit(cells, apps, agents, { markCount, seed = 1 }) {
  const rows = [];
  for (const app of apps) {
    for (const agent of agents) {
      const mine = cells.filter((c) => c.app === app && c.agent === agent.id && c.slices?.length);
      const per = { earlyMinusLate: [], earlyMinusLateMain: [], lateOverNone: [], earlyOverNone: [], lateOverTwin: [], earlyOverTwin: [], lateMainOverTwin: [], twinShareOfNone: [] };
      const early = [];
      const late = [];
      const earlyMs = [];
      for (const c of mine) {
        const inRound = (id) => cells.find((b) => b.app === app && b.round === c.round && b.agent === id);
        const at = (other, pass) => other?.slices?.find((x) => x.pass === pass);
        const base = inRound('none');
        const twin = agent.unsampled ? inRound(agent.unsampled) : undefined;
        const round = Object.fromEntries(Object.keys(per).map((k) => [k, []]));
        for (const s of c.slices) {
          const x = splitOf(s, markCount);
          if (!x) continue;
          early.push(x.early);
          late.push(x.late);
          earlyMs.push(x.earlyMs);
          const b = at(base, s.pass) && splitOf(at(base, s.pass), markCount);
          const t = at(twin, s.pass) && splitOf(at(twin, s.pass), markCount);
          round.earlyMinusLate.push(difference(x.early, x.late));
          round.earlyMinusLateMain.push(difference(x.earlyMain, x.lateMain));
          round.lateOverNone.push(difference(x.late, b?.late));
          round.earlyOverNone.push(difference(x.early, b?.early));
          round.lateOverTwin.push(difference(x.late, t?.late));
          round.earlyOverTwin.push(difference(x.early, t?.early));
          round.lateMainOverTwin.push(difference(x.lateMain, t?.lateMain));
          // The whole slice's figure over the twin as a share of no agent's request in the same pass: µs
          // scale with the machine's state (docs/performance.md, round fifteen), a share much less.
          const bs = at(base, s.pass)?.cpuUsPerRequest;
          const ts = at(twin, s.pass)?.cpuUsPerRequest;
          round.twinShareOfNone.push(bs > 0 && ts != null && s.cpuUsPerRequest != null ? (s.cpuUsPerRequest - ts) / bs : null);
        }
        for (const k of Object.keys(per)) per[k].push(round[k]);
      }
      if (early.length === 0) continue;
      const sum = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, summarizePasses(v, { seed })]));
      rows.push({
        app, agent: agent.id, label: agent.label, slices: early.length, earlyMs: median(earlyMs),
        early: median(early), late: median(late), ...sum, hasTwin: !!agent.unsampled, isBase: agent.id === 'none',
      });
    }
  }
  return rows;
}

const signed = (v) => (v == null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`);
const percent = (s) => (s?.median == null ? '—' : `${(s.median * 100).toFixed(0)} %${s.interval ? ` [${(s.interval[0] * 100).toFixed(0)}, ${(s.interval[1] * 100).toFixed(0)}]` : ''}`);
const withInterval = (s) => (s?.median == null ? '—' : `${signed(s.median)}${s.interval ? ` [${signed(s.interval[0])}, ${signed(s.interval[1])}]` : ''}`);

/** The Markdown section of summarizeSplit's rows. */
export function splitMarkdown(rows, splitMs) {
  if (rows.length === 0) return [];
  const lines = ['', `## Within the slices: the first ${splitMs} ms against the rest (BENCH_SPLIT_MS)`, '',
    `Per slice, the server's CPU (all threads; "main": its main thread) a request in its first ${splitMs} ms ("early";`,
    'the median actual length is given) and in the rest ("late"), read by the load generator at the same moments as',
    'its response count. "early − late" is taken within the same server and slice; "late over none" and "late over',
    'unsampled" pair the later parts of a pass\'s slices, as the main table pairs whole slices (the exported-span figure',
    'without the slices\' starts); "over unsampled ÷ none": the whole slices\' figure over the unsampled twin as a share of',
    'no agent\'s CPU a request in the same pass. Medians over slices, [95 % bootstrap interval].', '',
    '| app | agent | slices | early ms | early µs/req | late µs/req | early − late | early − late, main | late over none | late over unsampled | late over unsampled, main | early over unsampled | over unsampled ÷ none |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.app} | ${r.label} | ${r.slices} | ${r.earlyMs.toFixed(0)} | ${r.early?.toFixed(1) ?? '—'} | ${r.late?.toFixed(1) ?? '—'} | ` +
      `${withInterval(r.earlyMinusLate)} | ${withInterval(r.earlyMinusLateMain)} | ${r.isBase ? '' : withInterval(r.lateOverNone)} | ` +
      `${r.hasTwin ? withInterval(r.lateOverTwin) : ''} | ${r.hasTwin ? withInterval(r.lateMainOverTwin) : ''} | ${r.hasTwin ? withInterval(r.earlyOverTwin) : ''} | ${r.hasTwin ? percent(r.twinShareOfNone) : ''} |`);
  }
  return lines;
}

/**
 * Per (app, agent), pooled over all its slices: user and system CPU a request (from 10 ms ticks, so only
 * pooled figures mean anything) and minor page faults per 1,000 requests (`slice.process`, interleave.mjs).
 */
export function summarizeProcess(cells, apps, agents) {
  const rows = [];
  for (const app of apps) {
    for (const agent of agents) {
      const slices = cells.filter((c) => c.app === app && c.agent === agent.id).flatMap((c) => c.slices ?? []).filter((s) => s.process);
      const requests = slices.reduce((a, s) => a + s.requests, 0);
      if (requests === 0) continue;
      const sum = (k) => slices.reduce((a, s) => a + s.process[k], 0);
      const tickUs = 10_000;
      rows.push({ app, agent: agent.id, label: agent.label, requests, userUs: (sum('utimeTicks') * tickUs) / requests, systemUs: (sum('stimeTicks') * tickUs) / requests, faultsPer1k: (sum('minflt') * 1000) / requests });
    }
  }
  return rows;
}

/** The Markdown section of summarizeProcess's rows. */
export function processMarkdown(rows) {
  if (rows.length === 0) return [];
  const lines = ['', '## User and system CPU, page faults (pooled over each row\'s slices)', '',
    'From /proc/<pid>/stat around each slice (user and system time in 10 ms ticks, so pooled over all slices; minor',
    'page faults of the whole process). The kernel\'s side of a request (its sockets, and softirq work such as a',
    'loopback receive that runs on the sender\'s core) is system time.', '',
    '| app | agent | requests | user µs/req | system µs/req | minor faults per 1,000 req |', '|---|---|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.app} | ${r.label} | ${r.requests} | ${r.userUs.toFixed(1)} | ${r.systemUs.toFixed(1)} | ${r.faultsPer1k.toFixed(2)} |`);
  return lines;
}
