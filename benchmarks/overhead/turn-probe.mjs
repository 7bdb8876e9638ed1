// Loaded with --import into a server that stalls.mjs measures: times every turn of the event loop (from
// one check phase to the next: one setImmediate chain) in wall time and in the process's CPU time, and
// marks the turns in which a body of 16 KiB or more was written to a client socket (an exporter's
// batch: the server's own responses are far smaller, and are written to server sockets). It also sorts
// every turn by what it carried (round twelve): `send` (an exporter's exchange began: a client socket's
// idle timeout was armed), `write` (the export body above), `reply` (a client socket received data: the
// collector's answer), `gc` (a GC began in the turn, from the `gc` performance entries), else `plain`;
// and it keeps the longest turns with their kind, so stalls.mjs can say what the tail is made of.
// Client sockets are told apart only from server ones: in the fetch app, whose requests call a backend,
// every backend answer also reads as `reply` (and an armed timeout on its sockets as `send`).
// SIGUSR2 prints what was counted since the last SIGUSR2 as one JSON line on stderr, then starts over.
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';

const BIG_WRITE = 16 * 1024;
const SEND = 1;
const WRITE = 2;
const REPLY = 4;
const GC = 8;
let bigWrites = 0;
let flags = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, ...rest) {
  if (chunk != null && chunk.length >= BIG_WRITE && !this.server) {
    bigWrites++;
    flags |= WRITE;
  }
  return write.call(this, chunk, ...rest);
};
const setTimeoutOf = net.Socket.prototype.setTimeout;
net.Socket.prototype.setTimeout = function (ms, ...rest) {
  if (ms > 0 && !this.server) flags |= SEND;
  return setTimeoutOf.call(this, ms, ...rest);
};
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (event, ...rest) {
  if (event === 'data' && !this.server) flags |= REPLY;
  return emit.call(this, event, ...rest);
};

/** Every turn since the last report (up to MAX_TURNS): start, wall and CPU (ms), what it carried. */
const MAX_TURNS = 1 << 20;
const starts = new Float64Array(MAX_TURNS);
const walls = new Float32Array(MAX_TURNS);
const cpus = new Float32Array(MAX_TURNS);
const kinds = new Uint8Array(MAX_TURNS);
let recorded = 0;
/** GC start times (performance.now() ms) since the last report. */
let gcStarts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
}).observe({ entryTypes: ['gc'] });

const LONG_MS = [0.5, 1, 2, 4];
/** Longest turns kept per report, with their kind. */
const TOP = 400;
let stats;
function reset() {
  stats = {
    turns: 0, wallMs: 0, cpuMs: 0,
    exportTurns: 0, exportWallMs: 0, exportCpuMs: 0, exportSysMs: 0, exportWallMaxMs: 0,
    // Turns longer than each threshold (wall), and how many of them wrote an export body.
    long: Object.fromEntries(LONG_MS.map((ms) => [ms, { turns: 0, export: 0 }])),
  };
  recorded = 0;
  gcStarts = [];
}
reset();

let lastWall = performance.now();
let lastCpu = process.cpuUsage();
let lastWrites = 0;
function turn() {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const dWall = wall - lastWall;
  const dUser = (cpu.user - lastCpu.user) / 1000;
  const dSys = (cpu.system - lastCpu.system) / 1000;
  const exported = bigWrites !== lastWrites;
  stats.turns++;
  stats.wallMs += dWall;
  stats.cpuMs += dUser + dSys;
  if (exported) {
    stats.exportTurns++;
    stats.exportWallMs += dWall;
    stats.exportCpuMs += dUser + dSys;
    stats.exportSysMs += dSys;
    if (dWall > stats.exportWallMaxMs) stats.exportWallMaxMs = dWall;
  }
  for (const ms of LONG_MS) {
    if (dWall > ms) {
      stats.long[ms].turns++;
      if (exported) stats.long[ms].export++;
    }
  }
  if (recorded < MAX_TURNS) {
    starts[recorded] = lastWall;
    walls[recorded] = dWall;
    cpus[recorded] = dUser + dSys;
    kinds[recorded] = flags;
    recorded++;
  }
  flags = 0;
  lastWall = wall;
  lastCpu = cpu;
  lastWrites = bigWrites;
  setImmediate(turn);
}
setImmediate(turn);

function kindName(bits) {
  if (bits === 0) return 'plain';
  const names = [];
  if (bits & GC) names.push('gc');
  if (bits & SEND) names.push('send');
  if (bits & WRITE) names.push('write');
  if (bits & REPLY) names.push('reply');
  return names.join('+');
}

/** Per kind: turns, wall and CPU (ms); and the TOP longest turns as [wall µs, CPU µs, kind]. */
function byKind() {
  // A GC marks the turn it began in (turns are in time order, and so are the entries).
  gcStarts.sort((a, b) => a - b);
  let g = 0;
  for (let i = 0; i < recorded && g < gcStarts.length; i++) {
    const end = starts[i] + walls[i];
    while (g < gcStarts.length && gcStarts[g] < starts[i]) g++;
    if (g < gcStarts.length && gcStarts[g] < end) kinds[i] |= GC;
  }
  const perKind = {};
  for (let i = 0; i < recorded; i++) {
    const k = (perKind[kindName(kinds[i])] ??= { turns: 0, wallMs: 0, cpuMs: 0 });
    k.turns++;
    k.wallMs += walls[i];
    k.cpuMs += cpus[i];
  }
  const sorted = walls.slice(0, recorded).sort();
  const threshold = recorded > TOP ? sorted[recorded - TOP] : 0;
  const top = [];
  for (let i = 0; i < recorded; i++) if (walls[i] >= threshold) top.push([Math.round(walls[i] * 1000), Math.round(cpus[i] * 1000), kindName(kinds[i])]);
  top.sort((a, b) => b[0] - a[0]);
  return { kinds: perKind, top: top.slice(0, TOP), recorded };
}

process.on('SIGUSR2', () => {
  process.stderr.write(`turn-probe ${JSON.stringify({ ...stats, ...byKind() })}\n`);
  reset();
});
