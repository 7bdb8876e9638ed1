// Reads V8's `--trace-gc-nvp` lines (one `name=value` line per collection; Node 20 and 24 both print
// pause, gc, allocated, promoted and new_space_survived) into per-request and per-scavenge figures.

/** The number after ` key=` in one trace line (0 when the line has no such field). */
export function nvpField(line, key) {
  const match = new RegExp(`(?:^|\\s)${key.replace(/\./g, '\\.')}=([\\d.]+)`).exec(line);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Figures of the collections in `trace` (a process's stdout, other lines ignored) over `requests`:
 * bytes allocated per request, bytes surviving each scavenge (copied within the young generation or
 * promoted), the young generation's allocation between scavenges, scavenges per 10,000 requests,
 * other collections, and pauses (scavenges: mean and max ms; all collections: µs per request).
 */
export function gcFigures(trace, requests) {
  const lines = trace.split('\n').filter((l) => / pause=/.test(l) && / gc=/.test(l));
  const scavenges = lines.filter((l) => / gc=s(\s|$)/.test(l));
  const pauses = scavenges.map((l) => nvpField(l, 'pause')).sort((a, b) => a - b);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const perScavenge = (key) => (scavenges.length === 0 ? 0 : sum(scavenges.map((l) => nvpField(l, key))) / scavenges.length);
  return {
    allocatedPerRequest: sum(lines.map((l) => nvpField(l, 'allocated'))) / requests,
    survivedPerScavenge: perScavenge('new_space_survived'),
    allocatedPerScavenge: perScavenge('allocated'),
    promotedPerRequest: sum(lines.map((l) => nvpField(l, 'promoted'))) / requests,
    scavengesPer10k: (scavenges.length * 10000) / requests,
    otherGcs: lines.length - scavenges.length,
    pauseMeanMs: pauses.length === 0 ? 0 : sum(pauses) / pauses.length,
    pauseMaxMs: pauses.length === 0 ? 0 : pauses[pauses.length - 1],
    pausePerRequestUs: (sum(lines.map((l) => nvpField(l, 'pause'))) * 1000) / requests,
  };
}
