// Where the tail under saturating load comes from: runs one overhead app pinned to the server's core
// (as run.mjs does) under each agent, with V8's GC trace (--trace-gc-nvp) and a probe that times every
// turn of the event loop (turn-probe.mjs), drives it with autocannon from the other core, and prints
// per agent: bytes allocated per request, bytes surviving each scavenge, scavenges per 10,000
// requests, the scavenge pause (mean and max), and the turns in which a batch was exported (how many,
// their CPU and wall time) against all turns. Then (round twelve) the turns by what they carried (an
// export's send, its body's write, the collector's reply, a GC, or only the app's requests) and the
// tail turns: the longest requests / (100 × connections) turns, enough to set the p99 (turn-tail.mjs),
// with the wall time of the last of them and their kinds, per round. Allocation and survival are counts, not timings: the
// machine's load does not move them. Pauses and turn times are wall clock and do.
// The probe's setImmediate chain keeps the loop from ever sleeping in epoll: compare agents within one
// run of this script, never its req/s or CPU with run.mjs's.
// Usage (from the repository root):
//   node benchmarks/overhead/stalls.mjs [app=http] [--agents none,ours-unsampled,ours] [--rounds 2]
//     [--seconds 4] [--node 24] [--before <built checkout>] [--node-flags "--no-parallel-scavenge"]
//     [--probe off]: without the turn probe, whose Immediate and cpuUsage objects (~150 B a turn) count
//     in the bytes allocated per request; read allocation figures from a --probe off run.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENTS, beforeAgents } from './agents.mjs';
import { runLoad } from './load.mjs';
import { nodeBinary, nodeVersion } from './node-line.mjs';
import { choosePinning, pinned, pinSelf } from './pinning.mjs';
import { appLocation, cleanEnv } from './server.mjs';
import { gcFigures } from './gc-trace.mjs';
import { tailTurns } from './turn-tail.mjs';
import { startBackend, startSink } from './sink.mjs';

const PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/', 'http-body': '/' };
const probe = fileURLToPath(new URL('./turn-probe.mjs', import.meta.url));

const argv = process.argv.slice(2);
const option = (flag, fallback) => {
  const at = argv.indexOf(`--${flag}`);
  return at === -1 ? fallback : argv[at + 1];
};
const app = argv[0] && !argv[0].startsWith('--') ? argv[0] : 'http';
if (!PATHS[app]) throw new Error(`app: one of ${Object.keys(PATHS).join(', ')}`);
const rounds = Number(option('rounds', '2'));
const seconds = Number(option('seconds', '4'));
const node = nodeBinary(option('node', ''));
const nodeFlags = option('node-flags', '').split(' ').filter(Boolean);
const withProbe = option('probe', 'on') !== 'off';
const beforeRoot = option('before', undefined);
const known = [...AGENTS, ...(beforeRoot ? beforeAgents(path.resolve(beforeRoot), null) : [])];
const agents = option('agents', beforeRoot ? 'none,ours-before,ours' : 'none,ours-unsampled,ours').split(',').map((id) => {
  const agent = known.find((a) => a.id === id);
  if (!agent) throw new Error(`--agents: unknown ${id}; known: ${known.map((a) => a.id).join(', ')}`);
  return agent;
});

/** Starts the app with the GC trace and the probe; its stdout (the GC trace) is kept. */
function startTraced(agent, ctx, cpu) {
  const { dir, file } = appLocation(app);
  const args = ['--trace-gc-nvp', ...nodeFlags, ...(withProbe ? ['--import', probe] : []), ...agent.args(ctx), file];
  const { command, args: full } = pinned(cpu, args, node);
  const child = spawn(command, full, { cwd: dir, env: cleanEnv({ PORT: '0', ...agent.env(ctx), BACKEND_URL: `${ctx.backendUrl}/` }), stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (d) => { io.out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { io.err += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${agent.id}: did not listen; ${io.err.slice(-500)}`)); }, 30000);
    const check = () => {
      const m = /listening on (\d+)/.exec(io.out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({ child, io, port: Number(m[1]), stop: async () => { child.kill('SIGKILL'); await exited; } });
    };
    child.stdout.on('data', check);
    exited.then((code) => reject(new Error(`${agent.id}: exited (${code}) before listening; ${io.err.slice(-500)}`)));
  });
}

async function cell(agent, sink, backend, pinning) {
  const ctx = { sinkUrl: sink.url, backendUrl: backend.url, app };
  const server = await startTraced(agent, ctx, pinning.server);
  try {
    let mark = 0;
    const load = await runLoad({
      url: `http://127.0.0.1:${server.port}${PATHS[app]}`, duration: seconds, warmup: 1, connections: 10, cpu: pinning.load,
      beforeTimed: () => {
        if (withProbe) process.kill(server.child.pid, 'SIGUSR2');
        mark = server.io.out.length;
      },
    });
    const before = server.io.err.length;
    if (withProbe) process.kill(server.child.pid, 'SIGUSR2');
    // The probe sorts up to a million turns before it prints.
    await new Promise((r) => setTimeout(r, 1500));
    const probeLine = server.io.err.slice(before).split('\n').find((l) => l.startsWith('turn-probe '));
    const turns = probeLine ? JSON.parse(probeLine.slice('turn-probe '.length)) : null;
    return { load, gc: gcFigures(server.io.out.slice(mark), load.requests), turns };
  } finally {
    await server.stop();
  }
}

const pinning = choosePinning();
pinSelf(pinning.load);
const sink = await startSink();
const backend = await startBackend();
const results = new Map(agents.map((a) => [a.id, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const agent of r % 2 === 0 ? agents : [...agents].reverse()) results.get(agent.id).push(await cell(agent, sink, backend, pinning));
  }
} finally {
  await sink.close();
  await backend.close();
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
console.log(`${app} on Node ${nodeVersion(node)}${nodeFlags.length ? ` (${nodeFlags.join(' ')})` : ''}${withProbe ? ', turn probe on' : ', no turn probe'}, server pinned to CPU ${pinning.server}, load on CPU ${pinning.load}; ${rounds} interleaved rounds × ${seconds} s, 10 connections; medians over rounds; load average ${os.loadavg()[0].toFixed(1)} at the end`);
console.log('');
console.log('| agent | req/s | p99 ms | allocated B/req | survived B/scavenge | young gen allocated per scavenge MB | scavenges /10k req | scavenge pause mean / max ms | GC pause µs/req | export turns /10k req | export turn CPU µs (sys) | export turn wall µs mean / max | turns > 1 ms (with an export) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const agent of agents) {
  const cells = results.get(agent.id);
  const m = (pick) => median(cells.map(pick));
  const t = (pick) => median(cells.filter((c) => c.turns !== null && c.turns.exportTurns > 0).map(pick));
  console.log(`| ${agent.label} | ${f(m((c) => c.load.rps), 0)} | ${f(m((c) => c.load.p99Ms), 2)} | ${f(m((c) => c.gc.allocatedPerRequest), 0)} | ${f(m((c) => c.gc.survivedPerScavenge), 0)} | ${f(m((c) => c.gc.allocatedPerScavenge / 1e6), 2)} | ${f(m((c) => c.gc.scavengesPer10k))} | ${f(m((c) => c.gc.pauseMeanMs), 2)} / ${f(m((c) => c.gc.pauseMaxMs), 2)} | ${f(m((c) => c.gc.pausePerRequestUs), 2)} | ${f(m((c) => ((c.turns?.exportTurns ?? 0) * 10000) / c.load.requests))} | ${f(t((c) => (c.turns.exportCpuMs * 1000) / c.turns.exportTurns), 0)} (${f(t((c) => (c.turns.exportSysMs * 1000) / c.turns.exportTurns), 0)}) | ${f(t((c) => (c.turns.exportWallMs * 1000) / c.turns.exportTurns), 0)} / ${f(t((c) => c.turns.exportWallMaxMs * 1000), 0)} | ${f(m((c) => c.turns?.long[1].turns ?? NaN), 0)} (${f(m((c) => c.turns?.long[1].export ?? NaN), 0)}) |`);
}
if (withProbe) console.log('');
if (withProbe) console.log('Turns: one turn of the event loop, check phase to check phase (turn-probe.mjs). Export turns wrote a body of ≥ 16 KiB to a client socket; their CPU is the process\'s (all threads) during that turn. A normal turn of the same server, for scale:');
for (const agent of withProbe ? agents : []) {
  const cells = results.get(agent.id).filter((c) => c.turns !== null);
  const m = (pick) => median(cells.map(pick));
  console.log(`- ${agent.label}: ${f(m((c) => (c.turns.cpuMs * 1000) / c.turns.turns))} µs CPU, ${f(m((c) => (c.turns.wallMs * 1000) / c.turns.turns))} µs wall per turn on average; turns > 0.5 / 1 / 2 / 4 ms: ${['0.5', '1', '2', '4'].map((k) => f(m((c) => c.turns.long[k].turns), 0)).join(' / ')}`);
}

if (withProbe) {
  console.log('');
  console.log('Turns by what they carried (turn-probe.mjs; a turn with none of these served only the app\'s own requests: plain), per 10,000 requests and mean wall / CPU µs, medians over rounds; then, per round, the tail turns: the longest requests / 1,000 turns (10 connections: enough to delay 1 % of the requests), the wall time of the last of them, and what they carried.');
  console.log('');
  console.log('| agent | plain | gc | send | write | reply | other | tail turns per round: last one µs (gc / plain / send / write / reply / other) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  const KINDS = ['plain', 'gc', 'send', 'write', 'reply'];
  for (const agent of agents) {
    const cells = results.get(agent.id).filter((c) => c.turns?.kinds !== undefined);
    if (cells.length === 0) continue;
    const of = (c, kind) => {
      const all = Object.entries(c.turns.kinds).filter(([k]) => (kind === 'other' ? !KINDS.includes(k) : k === kind)).map(([, v]) => v);
      return all.reduce((a, v) => ({ turns: a.turns + v.turns, wallMs: a.wallMs + v.wallMs, cpuMs: a.cpuMs + v.cpuMs }), { turns: 0, wallMs: 0, cpuMs: 0 });
    };
    const column = (kind) => {
      const per10k = median(cells.map((c) => (of(c, kind).turns * 10000) / c.load.requests));
      const withTurns = cells.filter((c) => of(c, kind).turns > 0);
      if (withTurns.length === 0) return '—';
      const wall = median(withTurns.map((c) => (of(c, kind).wallMs * 1000) / of(c, kind).turns));
      const cpu = median(withTurns.map((c) => (of(c, kind).cpuMs * 1000) / of(c, kind).turns));
      return `${f(per10k)}: ${f(wall, 0)} / ${f(cpu, 0)}`;
    };
    const tails = cells.map((c) => {
      const t = tailTurns(c.turns.top, c.load.requests, 10);
      const n = (kind) => Object.entries(t.kinds).filter(([k]) => (kind === 'other' ? !KINDS.includes(k) : k === kind)).reduce((a, [, v]) => a + v, 0);
      return `${t.count}: ${f(t.lastWallUs, 0)} (${['gc', 'plain', 'send', 'write', 'reply', 'other'].map(n).join(' / ')})`;
    });
    console.log(`| ${agent.label} | ${KINDS.map(column).join(' | ')} | ${column('other')} | ${tails.join('; ')} |`);
  }
}
