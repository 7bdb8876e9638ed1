// A fixed-bucket latency histogram: 10 µs buckets up to 2 s (the last bucket holds everything
// slower). Recording is one array increment, cheap enough for the load generator's every response.

const BUCKET_MS = 0.01;
const BUCKETS = 200_000;

export class LatencyHistogram {
  constructor() {
    this.counts = new Uint32Array(BUCKETS);
    this.total = 0;
    this.sumMs = 0;
  }

  record(ms) {
    if (!(ms >= 0)) return;
    this.counts[Math.min(BUCKETS - 1, Math.floor(ms / BUCKET_MS))]++;
    this.total++;
    this.sumMs += ms;
  }

  meanMs() {
    return this.total === 0 ? null : this.sumMs / this.total;
  }

  /** The upper edge of the bucket holding the q-quantile (so never below the true value), or null. */
  quantileMs(q) {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return (i + 1) * BUCKET_MS;
    }
    return BUCKETS * BUCKET_MS;
  }
}
