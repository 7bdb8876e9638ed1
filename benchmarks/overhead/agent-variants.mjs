// What the fixed-rate, GC and callgrind benchmarks share (benchmarks/cpu/cpu-per-request.mjs, attribute.mjs,
// benchmarks/memory/gc-survival.mjs, benchmarks/micro/cache-misses.mjs, server-instructions.mjs): an OTLP/HTTP
// sink in the benchmark's own process, and the environment of each variant of our agent, so that a "sampled +
// OTLP" or "unsampled" row means the same settings in every script. The closed-loop harness (run.mjs) has its
// own agents (agents.mjs) and a sink that decodes and counts spans (sink.mjs); this one only answers, so that it
// costs the load core little.
import http from 'node:http';

/**
 * Starts an OTLP/HTTP sink on 127.0.0.1, port 0: it reads each payload, answers 200 at once, and counts
 * payloads and bytes (`counts`, live). `keepAliveTimeoutMs`: how long it keeps an idle connection; the
 * default is a minute, not Node's 5 s: at a fixed rate a batch leaves every few hundred ms, so a collector
 * never sees the exporter's connection idle, but a harness's own gaps (servers warmed one after another,
 * other variants' slices) do, and past 5 s the exporter connected again inside the measured window, which
 * deoptimised some 30 stream functions its socket shares with the server's sockets
 * (benchmarks/results/idle-gc-deopt.md). Resolves with `{ url, server, counts, close }`, `url` ending in
 * /v1/traces.
 */
export async function startOtlpSink({ keepAliveTimeoutMs = 60_000 } = {}) {
  const counts = { payloads: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    req.on('data', (c) => (counts.bytes += c.length));
    req.on('end', () => {
      counts.payloads++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
  return { url, server, counts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The variants' labels, in the order the scripts print them. */
export const VARIANT_LABELS = {
  none: 'no agent',
  otlp: 'sampled + OTLP export',
  'exporter-none': 'sampled, exporter none',
  grpc: 'sampled + OTLP/gRPC export',
  unsampled: 'unsampled',
  disabled: 'TRACING_ENABLED=false',
  'als-floor': 'one AsyncLocalStorage entered per request, no agent',
};

/**
 * The environment our agent runs with in each variant (null: no agent at all), given the sinks' URLs.
 * `grpcUrl` only where the script has an OTLP/gRPC sink; without it there is no `grpc` variant.
 * @returns {Record<string, Record<string, string> | null>}
 */
export function variantEnv({ sinkUrl, grpcUrl }) {
  const env = {
    none: null,
    otlp: { TRACING_ENDPOINT: sinkUrl },
    'exporter-none': { TRACING_EXPORTER: 'none' },
    unsampled: { TRACING_SAMPLER: 'always_off', TRACING_ENDPOINT: sinkUrl },
    disabled: { TRACING_ENABLED: 'false' },
  };
  if (grpcUrl) env.grpc = { TRACING_ENDPOINT: grpcUrl, TRACING_EXPORTER_PROTOCOL: 'grpc' };
  return env;
}

/** Exits with a message naming the known variants when `wanted` has one that `known` lacks. */
export function checkVariants(wanted, known, flag = '--variants') {
  const unknown = wanted.filter((v) => !(v in known));
  if (unknown.length === 0) return;
  console.error(`${flag}: ${unknown.join(', ')} not one of ${Object.keys(known).join(', ')}`);
  process.exit(2);
}
