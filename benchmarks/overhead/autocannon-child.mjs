// One autocannon run in its own process (pinned by the parent), printing a JSON summary.
import autocannon from 'autocannon';

const { url, connections, duration } = JSON.parse(process.argv[2]);
const result = await autocannon({ url, connections, duration, pipelining: 1 });
process.stdout.write(JSON.stringify({
  rps: result.requests.average,
  requests: result.requests.total,
  // autocannon records latency in whole milliseconds; the mean keeps the sub-millisecond signal.
  meanMs: result.latency.average,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  seconds: result.duration,
}));
