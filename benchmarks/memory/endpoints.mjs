// The two endpoints the memory benchmarks give the agent: a sink that answers every export with 200 and
// nothing else (the collector up, at no cost to the measured app), and a loopback port that nothing listens
// on (the collector down: every connection refused at once).
import http from 'node:http';
import net from 'node:net';

/** Starts the sink and finds a refusing port; `sink` is the server to close at the end. */
export async function collectorEndpoints() {
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const downUrl = `http://127.0.0.1:${probe.address().port}/v1/traces`;
  await new Promise((r) => probe.close(r));
  return { sink, sinkUrl, downUrl };
}

/**
 * The agent's environment per variant of the memory benchmarks, given the two endpoints: null is the app
 * without the agent. One table, so that every benchmark's "otlp" or "down" row means the same settings.
 */
export function variantEnvs({ sinkUrl, downUrl }) {
  return {
    none: null,
    otlp: { TRACING_ENDPOINT: sinkUrl },
    'exporter-none': { TRACING_EXPORTER: 'none' },
    unsampled: { TRACING_SAMPLER: 'always_off', TRACING_ENDPOINT: sinkUrl },
    down: { TRACING_ENDPOINT: downUrl },
  };
}
