// One app, one round of the overhead benchmark: every row's server started and checked, then all of
// them kept alive and loaded in short closed-loop slices, round-robin in a new shuffled order each
// pass, warm-up included. Why: on this shared 2-vCPU VM a server's CPU per request moves 2 - 3x over
// tens of seconds with the machine's state (co-runners on its core, the host), and every process
// alive at that moment moves alike (docs/performance.md, closed loop, round eleven). A row measured
// in one block of seconds after another row's block read that state, not the agent; slices of one
// pass run within a few seconds of each other, so a figure taken per pass (report.mjs) cancels it.
import { startApp } from './server.mjs';
import { busyShare, cpuTicks, faultsAndTicks, rssBytes, threadCpuNs } from './process-stats.mjs';
import { startBackend, startSink } from './sink.mjs';
import { shuffled } from '../cpu/differences.mjs';
import { judgeCell } from './verdict.mjs';
import { isDisturbed } from './report.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The longest warm-up of one server, seconds: a server too slow to reach the request count is still measured. */
const MAX_WARMUP_S = 30;

async function waitFor(predicate, timeoutMs) {
  const end = performance.now() + timeoutMs;
  while (!predicate() && performance.now() < end) await sleep(50);
  return predicate();
}

/** The histogram key of a row's timed slices in the load generator (its latency over the whole cell). */
export const latencyKey = (app, round, agent) => `${app}|${round}|${agent}`;

/**
 * Starts and checks one row's server: its own sink and backend (so spans, trace headers and backend
 * connections are counted per row while all servers are alive), then the check requests.
 * Resolves with `{ cell, server, sink, backend }`; `server` is null when the row cannot run.
 */
async function startRow({ app, appInfo, agent, round, settings, pinning }) {
  const cell = { app, agent: agent.id, round, callsDownstream: appInfo.callsDownstream, invalid: [] };
  const missing = agent.missing();
  if (missing) {
    cell.invalid.push(missing);
    return { cell, server: null };
  }
  const sink = await startSink();
  const backend = await startBackend();
  const ctx = { sinkUrl: sink.url, app };
  let server;
  try {
    server = await startApp({
      app,
      agentArgs: [...(settings.serverFlags ?? []), ...agent.args(ctx)],
      env: { ...agent.env(ctx), BACKEND_URL: `${backend.url}/` },
      cpu: pinning.server,
      node: settings.nodeBinary,
    });
  } catch (err) {
    cell.invalid.push(`app did not start: ${err.message}`);
    return { cell, server: null, sink, backend };
  }
  cell.startMs = server.startMs;
  const url = `http://127.0.0.1:${server.port}${appInfo.path}`;
  let verifyOk = 0;
  for (let i = 0; i < settings.verifyRequests; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) verifyOk++;
    } catch { /* counted as a failed check request */ }
  }
  cell.verifyRequests = settings.verifyRequests;
  cell.verifyOk = verifyOk;
  cell.backendRequests = backend.counts.requests;
  cell.backendTraced = backend.counts.traced;
  return { cell, server, sink, backend, url, acc: newAccumulator() };
}

function newAccumulator() {
  return { cpuNs: 0, requests: 0, seconds: 0, errors: 0, timeouts: 0, non2xx: 0, serverBusy: 0, serverTotal: 0, loadBusy: 0, loadTotal: 0 };
}

/** One slice of load on one row; the slice's figures, or throws when the load failed. */
async function runSlice(row, { load, settings, pinning, key }) {
  const statBefore = faultsAndTicks(row.server.pid);
  const cpuBefore = threadCpuNs(row.server.pid);
  const ticksBefore = cpuTicks();
  const wallBefore = performance.now();
  const marks = settings.splitMs?.length ? { pid: row.server.pid, marksMs: settings.splitMs } : {};
  const s = await load.slice({ url: row.url, seconds: settings.slice, connections: settings.connections, key, ...marks });
  const cpuAfter = threadCpuNs(row.server.pid);
  const statAfter = faultsAndTicks(row.server.pid);
  const ticksAfter = cpuTicks();
  const wallMs = performance.now() - wallBefore;
  if (cpuBefore == null || cpuAfter == null) throw new Error('the server process is gone');
  const cpuNs = cpuAfter - cpuBefore;
  const slice = {
    requests: s.requests, seconds: s.seconds, rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms,
    errors: s.errors, timeouts: s.timeouts, non2xx: s.non2xx, cpuNs,
    cpuUsPerRequest: s.requests > 0 ? cpuNs / 1000 / s.requests : null,
    ...(s.marks ? { marks: s.marks } : {}),
  };
  // Page faults and the user / system split (10 ms ticks: read pooled over many slices), for diagnosis.
  if (statBefore && statAfter) {
    slice.process = { minflt: statAfter.minflt - statBefore.minflt, utimeTicks: statAfter.utime - statBefore.utime, stimeTicks: statAfter.stime - statBefore.stime };
  }
  if (pinning.server !== null && ticksBefore && ticksAfter) {
    const server = cpuNs / 1e6 / wallMs;
    const serverCore = busyShare(ticksBefore, ticksAfter, pinning.server);
    slice.cores = {
      server: round2(server),
      otherOnServerCore: serverCore === null ? null : round2(Math.max(0, serverCore - server)),
      loadCore: round2(busyShare(ticksBefore, ticksAfter, pinning.load)),
    };
    slice.ticks = { before: ticksBefore, after: ticksAfter, serverCpu: pinning.server, loadCpu: pinning.load };
  }
  return slice;
}

/**
 * Runs one app's round: start and check every row, interleaved warm-up slices, then `passes` timed
 * passes of one slice per row each, in a shuffled order (`random`). Returns one cell per row, each with
 * its `slices` (pass, figures and cores) and the cell-level figures the checks and tables read.
 */
export async function runAppRound({ app, appInfo, agents, round, settings, pinning, load, random, log }) {
  const rows = [];
  try {
    for (const agent of agents) rows.push({ agent, ...(await startRow({ app, appInfo, agent, round, settings, pinning })) });
    const live = () => rows.filter((r) => r.server && !r.failed);
    const passes = Math.max(1, Math.round(settings.duration / settings.slice));
    const failed = (row, err) => {
      row.failed = true;
      row.cell.invalid.push(`measurement failed: ${err.message}`);
      log(`round ${round} ${app} ${row.agent.id}: ${err.message}`);
    };
    // Warm-up, interleaved like the timed passes so that no server idles for long: until every server
    // has had BENCH_WARMUP seconds and answered BENCH_WARMUP_REQUESTS (V8 tiers up by calls, not
    // seconds: a fetch server's CPU per request is still falling after 5,000 requests), at most 30 s each.
    if (settings.warmup > 0 || settings.warmupRequests > 0) {
      const warmed = (row) => row.warm.seconds >= settings.warmup && row.warm.requests >= settings.warmupRequests;
      for (const row of live()) row.warm = { seconds: 0, requests: 0 };
      while (live().some((r) => !warmed(r) && r.warm.seconds < MAX_WARMUP_S)) {
        for (const row of shuffled(live(), random)) {
          try {
            const s = await load.slice({ url: row.url, seconds: settings.slice, connections: settings.connections, key: 'warm-up' });
            row.warm.seconds += s.seconds;
            row.warm.requests += s.requests;
          } catch (err) {
            failed(row, err);
          }
        }
      }
      for (const row of live()) row.cell.warmUp = row.warm;
    }
    for (const row of live()) {
      row.spansAtTimedStart = row.sink.counts.spans;
      row.backendAtTimedStart = { ...row.backend.counts };
      row.cell.slices = [];
    }
    for (let pass = 1; pass <= passes; pass++) {
      const order = shuffled(live(), random);
      for (let i = 0; i < order.length; i++) {
        const row = order[i];
        try {
          const slice = await runSlice(row, { load, settings, pinning, key: latencyKey(app, round, row.agent.id) });
          accumulate(row.acc, slice);
          delete slice.ticks;
          row.cell.slices.push({ pass, position: i, ...slice });
        } catch (err) {
          failed(row, err);
        }
      }
    }
    const latency = await load.summary();
    for (const row of rows.filter((r) => r.server && r.cell.slices)) {
      const { cell, acc } = row;
      cell.rssBytes = rssBytes(row.server.pid);
      const hist = latency[latencyKey(app, round, row.agent.id)] ?? {};
      cell.load = {
        rps: acc.seconds > 0 ? acc.requests / acc.seconds : 0,
        requests: acc.requests, seconds: acc.seconds,
        meanMs: hist.meanMs ?? null, p50Ms: hist.p50Ms ?? null, p99Ms: hist.p99Ms ?? null,
        errors: acc.errors, timeouts: acc.timeouts, non2xx: acc.non2xx,
      };
      cell.cpuUsPerRequest = acc.requests > 0 ? acc.cpuNs / 1000 / acc.requests : null;
      cell.spansPerRequest = (row.sink.counts.spans - row.spansAtTimedStart) / Math.max(1, acc.requests);
      if (acc.serverTotal > 0) {
        const wallMs = acc.seconds * 1000;
        const server = wallMs > 0 ? acc.cpuNs / 1e6 / wallMs : null;
        cell.cores = {
          server: round2(server),
          otherOnServerCore: round2(Math.max(0, acc.serverBusy / acc.serverTotal - (server ?? 0))),
          loadCore: round2(acc.loadBusy / acc.loadTotal),
        };
      }
      cell.disturbedSlices = cell.slices.filter(isDisturbed).length;
      if (cell.callsDownstream) {
        cell.backendConnectionsTimed = row.backend.counts.connections - row.backendAtTimedStart.connections;
        cell.backendRequestsTimed = row.backend.counts.requests - row.backendAtTimedStart.requests;
      }
    }
    // The check requests' spans must reach each exporting row's sink: by now a batching agent has sent.
    for (const row of rows.filter((r) => r.server && r.agent.expects === 'spans')) {
      await waitFor(() => row.sink.counts.spans > 0, settings.verifyTimeoutMs);
    }
    for (const row of rows.filter((r) => r.server)) row.cell.verifySpans = row.sink.counts.spans;
  } finally {
    await Promise.all(rows.filter((r) => r.server).map((r) => r.server.stop()));
    // Let the sinks finish reading what the processes sent before they were stopped.
    await sleep(300);
    for (const row of rows) {
      if (row.sink) row.cell.totalSpans = row.sink.counts.spans;
      await row.sink?.close();
      await row.backend?.close();
    }
  }
  for (const { cell } of rows) {
    if (cell.verifyRequests !== undefined) cell.invalid.push(...judgeCell({ ...cell, expects: agents.find((a) => a.id === cell.agent).expects }));
  }
  return rows.map((r) => r.cell);
}

function accumulate(acc, slice) {
  acc.cpuNs += slice.cpuNs;
  acc.requests += slice.requests;
  acc.seconds += slice.seconds;
  acc.errors += slice.errors;
  acc.timeouts += slice.timeouts;
  acc.non2xx += slice.non2xx;
  if (slice.ticks) {
    const { before, after, serverCpu, loadCpu } = slice.ticks;
    const d = (cpu, field) => (after[cpu]?.[field] ?? 0) - (before[cpu]?.[field] ?? 0);
    acc.serverBusy += d(serverCpu, 'busy');
    acc.serverTotal += d(serverCpu, 'total');
    acc.loadBusy += d(loadCpu, 'busy');
    acc.loadTotal += d(loadCpu, 'total');
  }
}

const round2 = (x) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
