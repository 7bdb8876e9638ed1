// Within-round differences of CPU per request, and whether a run can tell them apart from noise.
// Used by cpu-per-request.mjs; pure functions, tested in benchmarks/test/differences.test.mjs.
//
// Why within-round differences: the machine's background load drifts over minutes, and it moves every
// variant measured at the same moment alike. The difference a - b taken in the same round (and, with
// --slices, from measuring windows interleaved slice by slice) cancels most of that drift; the spread of
// those differences over rounds is the noise left, and a difference smaller than that spread is not
// resolved by the run, however its median reads.

/** The q-quantile (0..1) of xs, linear between order statistics (type 7, as R and numpy default). */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

export const median = (xs) => quantile(xs, 0.5);

/**
 * A small seeded generator (mulberry32), so that a run's interleaving order and its bootstrap
 * interval can be reproduced from the seed it prints.
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy. */
export function shuffled(xs, random) {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * A percentile bootstrap interval of the median of xs: resample xs with replacement `resamples`
 * times, take each resample's median, and return the (1-level)/2 and (1+level)/2 quantiles of those.
 */
export function bootstrapMedianInterval(xs, { level = 0.95, resamples = 4000, random = seededRandom(1) } = {}) {
  if (xs.length === 0) return [NaN, NaN];
  if (xs.length === 1) return [xs[0], xs[0]];
  const medians = new Array(resamples);
  const sample = new Array(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(random() * xs.length)];
    medians[r] = median(sample);
  }
  return [quantile(medians, (1 - level) / 2), quantile(medians, (1 + level) / 2)];
}

/**
 * Summary of the per-round differences a - b (one number per round):
 *   median, q1/q3 and iqr (their interquartile range), the bootstrap interval of the median, and
 *   `resolved`: false when the difference is smaller than its spread, i.e. the interval holds 0
 *   or |median| is below half the interquartile range. With fewer than 3 rounds nothing is resolved:
 *   there is no spread to judge by.
 */
export function summarizeDifferences(diffs, { level = 0.95, resamples = 4000, seed = 1 } = {}) {
  const xs = diffs.filter((d) => Number.isFinite(d));
  const med = median(xs);
  const q1 = quantile(xs, 0.25);
  const q3 = quantile(xs, 0.75);
  const [low, high] = bootstrapMedianInterval(xs, { level, resamples, random: seededRandom(seed) });
  const iqr = q3 - q1;
  const resolved = xs.length >= 3 && !(low <= 0 && high >= 0) && Math.abs(med) >= iqr / 2;
  return { rounds: xs.length, median: med, q1, q3, iqr, interval: [low, high], level, resolved };
}

/** One line a reader can act on: the difference, its spread, and whether the run resolves it. */
export function describeDifference(s, unit = 'µs') {
  const f = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  const spread = `IQR ${f(s.q1)}..${f(s.q3)}, ${Math.round(s.level * 100)}% CI of the median ${f(s.interval[0])}..${f(s.interval[1])} ${unit}, ${s.rounds} rounds`;
  if (s.rounds < 3) return `${f(s.median)} ${unit} (${spread}): too few rounds to judge, use --rounds 3 or more`;
  if (s.resolved) return `${f(s.median)} ${unit} (${spread})`;
  return `${f(s.median)} ${unit} (${spread}): NOT RESOLVED, the difference is smaller than its spread`;
}
