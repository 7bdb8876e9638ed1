// A closed-loop load generator that stays up for a whole run and loads one server at a time in
// slices, on command: the harness (run.mjs) keeps every row's server alive and drives them in short
// round-robin slices, so one process pays the load generator's start-up once and a slice costs only
// its connections. Protocol, one JSON object a line:
//   stdin  {"url", "seconds", "connections", "key"}  ->  stdout {"requests", "seconds", "rps", "p50Ms", "p99Ms", "errors", "timeouts", "non2xx"}
//   stdin  {"summary": true}                         ->  stdout {"<key>": {"p50Ms", "p99Ms", "meanMs", "requests"}, ...}
// `key` names the histogram the slice's latencies also go into (one per row), so a row's p99 is taken
// over all its slices, not as a median of slices' p99s. autocannon's own stop is checked on its sample
// interval: 100 ms here instead of 1 s, so a 1 s slice lasts ~1 s; rps is counted here (responses over
// the slice's wall time), not autocannon's per-interval mean.
// With `pid` and `marksMs` (BENCH_SPLIT_MS, run.mjs) the slice also reports `marks`: at each mark, the
// milliseconds since the load began, the responses so far and the server's CPU so far (all threads and its
// main thread, from /proc), read here so that the CPU and the count are taken at the same moment.
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { LatencyHistogram } from './latency.mjs';
import { threadCpuNs, mainThreadCpuNs } from './process-stats.mjs';

const histograms = new Map();

function slice({ url, seconds, connections, key, pid, marksMs }) {
  const latency = new LatencyHistogram();
  let all = histograms.get(key);
  if (!all) histograms.set(key, (all = new LatencyHistogram()));
  const started = performance.now();
  let responses = 0;
  const marks = [];
  const timers = [];
  const mark = () => marks.push({ ms: performance.now() - started, responses, cpuNs: threadCpuNs(pid), mainCpuNs: mainThreadCpuNs(pid) });
  if (pid && marksMs?.length) {
    mark();
    for (const ms of marksMs) timers.push(setTimeout(mark, ms));
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, pipelining: 1, sampleInt: 100 }, (err, result) => {
      for (const t of timers) clearTimeout(t);
      if (err) reject(err);
      else {
        if (marks.length) mark();
        const elapsed = (performance.now() - started) / 1000;
        resolve({
          ...(marks.length ? { marks } : {}),
          requests: result.requests.total,
          seconds: elapsed,
          rps: result.requests.total / elapsed,
          p50Ms: latency.quantileMs(0.5),
          p99Ms: latency.quantileMs(0.99),
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
        });
      }
    });
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      responses++;
      if (statusCode >= 200 && statusCode < 300) {
        latency.record(responseTimeMs);
        all.record(responseTimeMs);
      }
    });
  });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.summary) {
    const out = {};
    for (const [key, h] of histograms) out[key] = { p50Ms: h.quantileMs(0.5), p99Ms: h.quantileMs(0.99), meanMs: h.meanMs(), requests: h.total };
    process.stdout.write(JSON.stringify(out) + '\n');
    continue;
  }
  try {
    process.stdout.write(JSON.stringify(await slice(command)) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err?.message ?? err) }) + '\n');
  }
}
