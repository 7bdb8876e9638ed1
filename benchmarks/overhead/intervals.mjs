// How sure a figure of the interleaved harness is: each figure (a ratio or a difference to no agent)
// is taken per pass — the rows' slices of one pass ran within seconds of each other, so a change of
// the machine's state lands on all of them — and summarised over every pass of every round by its
// median and a bootstrap interval of that median. The bootstrap resamples at two levels: rounds (each a
// fresh set of server processes, so a server stuck in a slow state for its whole life widens the
// interval instead of hiding in it), then passes within each drawn round.
import { median, quantile, seededRandom } from '../cpu/differences.mjs';

/**
 * @param {number[][]} perRound values per pass, grouped by round (empty rounds are dropped)
 * @returns {{median: number|null, interval: [number, number]|null, passes: number, rounds: number, roundMedians: number[]}}
 *   interval is null with fewer than 3 values in all (no spread to judge by)
 */
export function summarizePasses(perRound, { level = 0.95, resamples = 2000, seed = 1 } = {}) {
  const groups = perRound.map((g) => g.filter((x) => typeof x === 'number' && Number.isFinite(x))).filter((g) => g.length > 0);
  const all = groups.flat();
  const roundMedians = groups.map((g) => median(g));
  if (all.length === 0) return { median: null, interval: null, passes: 0, rounds: 0, roundMedians };
  const out = { median: median(all), interval: null, passes: all.length, rounds: groups.length, roundMedians };
  if (all.length < 3) return out;
  const random = seededRandom(seed);
  const medians = new Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const sample = [];
    for (let g = 0; g < groups.length; g++) {
      const group = groups[Math.floor(random() * groups.length)];
      for (let i = 0; i < group.length; i++) sample.push(group[Math.floor(random() * group.length)]);
    }
    medians[r] = median(sample);
  }
  out.interval = [quantile(medians, (1 - level) / 2), quantile(medians, (1 + level) / 2)];
  return out;
}

/**
 * The verdict on a goal read with its interval: "yes" when the whole interval meets it, "no" when the
 * whole interval misses it, "not resolved" when the goal lies inside the interval (the run cannot tell).
 * Without an interval (too few passes) the point value is judged and marked so.
 */
export function intervalVerdict({ value, interval, atLeast, atMost }) {
  if (value == null || !Number.isFinite(value)) return 'not measured';
  const meets = (x) => (atLeast != null ? x >= atLeast : x <= atMost);
  if (!interval) return `${meets(value) ? 'yes' : 'no'} (no spread: too few passes)`;
  const [low, high] = interval;
  if (meets(low) && meets(high)) return 'yes';
  if (!meets(low) && !meets(high)) return 'no';
  return 'not resolved';
}
