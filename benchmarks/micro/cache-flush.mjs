// Preload of cache-misses.mjs (not for use alone): lets the driver empty the caches of callgrind's
// simulated machine between two requests. On each line `f` on stdin it reads one 8-byte word of every
// 64-byte line of a buffer several times the simulated LL (COLD_FLUSH_BYTES), which evicts every line a
// request left in D1 and LL (I1 is left to the request's own code, which is far larger than I1), and
// answers `k` on stdout; on `g`, the same and then it reads COLD_EXTRA_BYTES of a second buffer, footprint
// added on purpose to the rounds with a request (the count must move by that many lines). The same work
// in every variant, no agent included.
const flushWords = Math.max(8, Math.floor(Number(process.env.COLD_FLUSH_BYTES ?? 4 * 1024 * 1024) / 8));
const extraWords = Math.floor(Number(process.env.COLD_EXTRA_BYTES ?? 0) / 8);
const flushBuffer = new Float64Array(flushWords);
const extraBuffer = new Float64Array(Math.max(8, extraWords));
let sink = 0;

function coldFlush(extra) {
  let s = 0;
  for (let i = 0; i < flushWords; i += 8) s += flushBuffer[i];
  for (let i = 0; i < extra; i += 8) s += extraBuffer[i];
  sink += s;
}

process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk) => {
  // After the loop has run what the request left queued (its `finish` work, an immediate's send).
  setImmediate(() => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 'f' || chunk[i] === 'g') coldFlush(chunk[i] === 'g' ? extraWords : 0);
    process.stdout.write(sink === -1 ? 'x\n' : 'k\n');
  });
});
