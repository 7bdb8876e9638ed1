// Loaded with --import into a server that stalls.mjs measures: times every turn of the event loop (from
// one check phase to the next: one setImmediate chain) in wall time and in the process's CPU time, and
// marks the turns in which a body of 16 KiB or more was written to a client socket (an exporter's
// batch: the server's own responses are far smaller, and are written to server sockets). SIGUSR2
// prints what was counted since the last SIGUSR2 as one JSON line on stderr, then starts over.
import net from 'node:net';

const BIG_WRITE = 16 * 1024;
let bigWrites = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, ...rest) {
  if (chunk != null && chunk.length >= BIG_WRITE && !this.server) bigWrites++;
  return write.call(this, chunk, ...rest);
};

const LONG_MS = [0.5, 1, 2, 4];
let stats;
function reset() {
  stats = {
    turns: 0, wallMs: 0, cpuMs: 0,
    exportTurns: 0, exportWallMs: 0, exportCpuMs: 0, exportSysMs: 0, exportWallMaxMs: 0,
    // Turns longer than each threshold (wall), and how many of them wrote an export body.
    long: Object.fromEntries(LONG_MS.map((ms) => [ms, { turns: 0, export: 0 }])),
  };
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
  lastWall = wall;
  lastCpu = cpu;
  lastWrites = bigWrites;
  setImmediate(turn);
}
setImmediate(turn);

process.on('SIGUSR2', () => {
  process.stderr.write(`turn-probe ${JSON.stringify(stats)}\n`);
  reset();
});
