// Does a server's CPU per request depend on whether its core ever goes idle? (round fifteen, harness room)
// On this VM (Firecracker, cpuidle haltpoll with guest_halt_poll_ns=0) an idle vCPU halts at once and the
// host takes the core; in a closed loop the server idles between its requests' arrivals, many times a
// millisecond. This script keeps the overhead harness's method — no agent, ours sampled and ours unsampled
// (the http app, each with its own sink), all alive, pinned like run.mjs, loaded in shuffled 0.5 s
// closed-loop slices — and in every other pass runs a spinner at SCHED_IDLE on the chosen cores (`chrt -i`:
// it only takes what nothing else wants, and a waking server preempts it), stopped (SIGSTOP) in the
// passes between. Each pass with the spinner is read against the pass before it without, so both states
// are measured in the same seconds on the same servers.
// Usage: node benchmarks/overhead/idle-spin.mjs [--passes 40] [--slice 0.5] [--cores server|load|both|none]
//        [--node 24] [--flags "--no-memory-reducer"]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AGENTS } from './agents.mjs';
import { intervalVerdict, summarizePasses } from './intervals.mjs';
import { nodeBinary } from './node-line.mjs';
import { choosePinning, pinSelf } from './pinning.mjs';
import { cpuTicks, busyShare, faultsAndTicks, threadCpuNs } from './process-stats.mjs';
import { median } from './report.mjs';
import { startApp } from './server.mjs';
import { startSink } from './sink.mjs';
import { startSliceLoad } from './slice-load.mjs';
import { seededRandom, shuffled } from '../cpu/differences.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const passes = Number(arg('passes', '40'));
const sliceS = Number(arg('slice', '0.5'));
const spinOn = arg('cores', 'server');
const node = nodeBinary(arg('node', undefined));
const flags = arg('flags', '').split(/\s+/).filter(Boolean);
const pinning = choosePinning();
if (pinning.server === null) throw new Error('needs taskset and two cores');
pinSelf(pinning.load);

const cores = { server: [pinning.server], load: [pinning.load], both: [pinning.server, pinning.load], none: [] }[spinOn];
if (!cores) throw new Error('--cores server|load|both|none');
// --mode thrash: the co-runner streams through 32 MB instead (every cache line, over and over), and with
// --policy normal it shares the core with the server as any co-runner does: a controlled "slow machine",
// to see whether an agent's µs grow with it as no agent's do.
const mode = arg('mode', 'spin');
const policy = arg('policy', 'idle');
const loop = mode === 'thrash'
  ? [process.execPath, '-e', 'const a = new Float64Array(4 << 20); for (;;) for (let i = 0; i < a.length; i += 8) a[i]++;']
  : ['sh', '-c', 'while :; do :; done'];
const spinners = cores.map((cpu) => spawn('taskset', ['-c', String(cpu), ...(policy === 'idle' ? ['chrt', '-i', '0'] : []), ...loop], { stdio: 'ignore' }));
const spin = (on) => { for (const s of spinners) s.kill(on ? 'SIGCONT' : 'SIGSTOP'); };
spin(false);

/** How many times a core has entered its idle state (a halt, on this VM) so far, or null. */
const idleEntries = (cpu) => {
  try {
    return Number(readFileSync(`/sys/devices/system/cpu/cpu${cpu}/cpuidle/state1/usage`, 'utf8'));
  } catch {
    return null;
  }
};

const ids = ['none', 'ours', 'ours-unsampled'];
const load = await startSliceLoad({ cpu: pinning.load });
const rows = [];
try {
  for (const id of ids) {
    const agent = AGENTS.find((a) => a.id === id);
    const sink = await startSink();
    const ctx = { sinkUrl: sink.url, app: 'http' };
    const server = await startApp({ app: 'http', agentArgs: [...flags, ...agent.args(ctx)], env: agent.env(ctx), cpu: pinning.server, node });
    rows.push({ id, sink, server, url: `http://127.0.0.1:${server.port}/`, slices: [] });
  }
  const random = seededRandom(Number(arg('seed', '7')));
  const slice = (row) => load.slice({ url: row.url, seconds: sliceS, connections: 10, key: row.id });
  for (let i = 0; i < 4; i++) for (const row of shuffled(rows, random)) await slice(row);
  for (let pass = 0; pass < passes; pass++) {
    const on = pass % 2 === 1;
    spin(on);
    for (const row of shuffled(rows, random)) {
      const cpu0 = threadCpuNs(row.server.pid);
      const t0 = cpuTicks();
      const f0 = faultsAndTicks(row.server.pid);
      const h0 = [idleEntries(pinning.server), idleEntries(pinning.load)];
      const s = await slice(row);
      const cpuNs = threadCpuNs(row.server.pid) - cpu0;
      const t1 = cpuTicks();
      const f1 = faultsAndTicks(row.server.pid);
      const h1 = [idleEntries(pinning.server), idleEntries(pinning.load)];
      row.slices.push({ pass, on, us: cpuNs / 1000 / s.requests, rps: s.rps, serverCore: cpuNs / 1e9 / s.seconds, busy: busyShare(t0, t1, pinning.server), haltsServer: (h1[0] - h0[0]) / s.requests, haltsLoad: (h1[1] - h0[1]) / s.requests,
        faults: (f1.minflt - f0.minflt) / s.requests, sysShare: (f1.stime - f0.stime) / Math.max(1, f1.stime - f0.stime + f1.utime - f0.utime) });
    }
  }
} finally {
  spin(true);
  for (const s of spinners) s.kill('SIGKILL');
  for (const r of rows) { await r.server.stop(); await r.sink.close(); }
  await load.close();
}

const at = (id, pass) => rows.find((r) => r.id === id).slices.find((s) => s.pass === pass);
const fmt = (x) => (x == null ? '—' : x.toFixed(2));
const show = (s) => `${fmt(s.median)} [${s.interval ? s.interval.map(fmt).join(', ') : '—'}]`;
console.log(`idle-spin: ${passes} passes of ${sliceS} s slices, co-runner ${mode} (${policy === 'idle' ? 'SCHED_IDLE' : 'normal'}) on CPU ${cores.join(',') || 'none'} in odd passes; server node ${node} ${flags.join(' ')}`);
for (const on of [false, true]) {
  const pick = (id) => rows.find((r) => r.id === id).slices.filter((s) => s.on === on);
  const line = ids.map((id) => `${id} ${fmt(median(pick(id).map((s) => s.us)))} µs/req (${fmt(median(pick(id).map((s) => s.rps)) / 1000)} k req/s, server ${fmt(median(pick(id).map((s) => s.serverCore)))} of its core, core busy ${fmt(median(pick(id).map((s) => s.busy)))}, halts a request: server core ${fmt(median(pick(id).map((s) => s.haltsServer)))}, load core ${fmt(median(pick(id).map((s) => s.haltsLoad)))}, faults a request ${median(pick(id).map((s) => s.faults))?.toFixed(4)}, system share of its CPU ${fmt(median(pick(id).map((s) => s.sysShare)))})`);
  console.log(`spinner ${on ? 'on ' : 'off'}: ${line.join('; ')}`);
}
// Per pass pair (off, then on): the spinner's effect on each row, and each state's pass-paired figures.
const pairs = [];
for (let p = 1; p < passes; p += 2) pairs.push([p - 1, p]);
const figure = (f) => summarizePasses([pairs.map(f)]);
for (const id of ids) console.log(`${id}: on / off ${show(figure(([off, on]) => at(id, on).us / at(id, off).us))}`);
for (const on of [false, true]) {
  const p = (f) => figure((pair) => f(pair[on ? 1 : 0]));
  const span = p((q) => at('ours', q).us - at('ours-unsampled', q).us);
  const unsampled = p((q) => at('ours-unsampled', q).us - at('none', q).us);
  const rel = p((q) => (at('ours', q).us - at('ours-unsampled', q).us) / at('none', q).us);
  console.log(`spinner ${on ? 'on ' : 'off'}: exported span (ours − unsampled) ${show(span)} µs, ${intervalVerdict({ value: span.median, interval: span.interval, atMost: 2 })} on ≤ +2; ` +
    `unsampled − none ${show(unsampled)} µs; exported span / no agent's request ${show(rel)}`);
}
