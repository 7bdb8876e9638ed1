// Names JIT code addresses from Node's perf map (`--perf-basic-prof` writes /tmp/perf-<pid>.map: one
// `start size name` line per piece of code), for the callgrind tools that list instructions or cache
// misses by function (server-instructions.mjs, cache-misses.mjs).
import { readFileSync } from 'node:fs';

/**
 * A lookup from an address to the name of the JIT code that holds it, or null (no map, or an address no
 * entry covers). `shorten` rewrites each name (e.g. an absolute path to one relative to the build).
 */
export function jitNamer(perfMapFile, shorten = (name) => name) {
  let ranges = [];
  try {
    ranges = readFileSync(perfMapFile, 'utf8').split('\n').filter(Boolean).map((l) => {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(l);
      return [parseInt(m[1], 16), parseInt(m[2], 16), m[3]];
    }).sort((a, b) => a[0] - b[0]);
  } catch {
    // No map: JIT code stays an address.
  }
  return (address) => {
    let lo = 0;
    let hi = ranges.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid][0] <= address) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best >= 0 && address < ranges[best][0] + ranges[best][1] ? shorten(ranges[best][2]) : null;
  };
}
