// What the closed loop's p99 is made of, from turn-probe.mjs's longest turns (round twelve). With C
// connections each holding one request, a turn of the server's event loop delays at most the C
// requests in flight; so the slowest 1 % of N requests can be set by as few as N / (100 × C) long
// turns. Those turns are the "tail turns": how long the last of them was, and what they carried (a GC,
// an export's send, its body's write, the collector's reply, or the app's own requests only).

/**
 * `top`: the probe's longest turns as [wall µs, CPU µs, kind], longest first; `requests` answered in
 * the same window. Returns the number of tail turns, the wall time of the last one (µs, or NaN when
 * the probe kept fewer turns) and how many of them were of each kind.
 */
export function tailTurns(top, requests, connections = 10) {
  const count = Math.max(1, Math.ceil(requests / (100 * connections)));
  const kinds = {};
  for (const [, , kind] of top.slice(0, count)) kinds[kind] = (kinds[kind] ?? 0) + 1;
  return { count, lastWallUs: top.length >= count ? top[count - 1][0] : NaN, kinds };
}

