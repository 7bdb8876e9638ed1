// autocannon in its own process (pinned by the parent): an optional warm-up run, then the timed run,
// printing a JSON summary of the timed one. With a warm-up it prints `warm` after it and waits for a
// line on stdin before the timed run, so that the parent can read the server's CPU in between
// (one process for both runs: the load generator's start-up is paid once per cell).
import { once } from 'node:events';
import autocannon from 'autocannon';
import { LatencyHistogram } from './latency.mjs';

const { url, connections, duration, warmup = 0 } = JSON.parse(process.argv[2]);

if (warmup > 0) {
  await autocannon({ url, connections, duration: warmup, pipelining: 1 });
  process.stdout.write('warm\n');
  await once(process.stdin.setEncoding('utf8'), 'data');
  process.stdin.pause();
}

// autocannon's own percentiles are whole milliseconds (0 or 1 for a hello world), too coarse for a
// p99 ratio; every 2xx response's exact time also goes into a 10 µs histogram.
const latency = new LatencyHistogram();
const instance = autocannon({ url, connections, duration, pipelining: 1 });
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode >= 200 && statusCode < 300) latency.record(responseTimeMs);
});
const result = await instance;
process.stdout.write(JSON.stringify({
  rps: result.requests.average,
  requests: result.requests.total,
  meanMs: latency.meanMs() ?? result.latency.average,
  p50Ms: latency.quantileMs(0.5) ?? result.latency.p50,
  p99Ms: latency.quantileMs(0.99) ?? result.latency.p99,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  seconds: result.duration,
}) + '\n');
