// amqplib publish+consume round trips per second, and CPU per round trip, without and with the agent,
// against the RabbitMQ of scripts/setup-test-env.sh. Each run is a fresh process (amqplib-worker.cjs),
// the two modes alternate round by round so machine drift hits both alike; the agent exports OTLP to
// a local sink that answers 200 and discards, so encoding and sending count. With the agent every
// message makes a producer span (TRACING_MESSAGING_ROOT_SPANS=true: the loop runs outside any request)
// and a consumer span ended at the ack: the whole cost of tracing a message, both ends in one process.
// (TRACING_MESSAGING_ROOT_SPANS=true so the seed publishes are traced too; the loop's publishes run in
// consumer spans.)
// The machine is shared: prefer CPU µs per round trip to round trips per second, and the median.
// Run: npm run build && node benchmarks/messaging/amqplib.mjs [rounds=5] [seconds=3] [concurrency=8]
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const [rounds = 5, seconds = 3, concurrency = 8] = process.argv.slice(2, 5).map(Number);
const port = Number(process.env.TEST_AMQP_PORT ?? 56729);
const url = `amqp://acme:acme-amqp-pass@127.0.0.1:${port}/%2F`;

let exportedBytes = 0;
const sink = http.createServer((req, res) => {
  req.on('data', (d) => (exportedBytes += d.length));
  req.on('end', () => res.end());
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));

// `agent, amqplib off`: the agent loaded with this instrumentation switched off, so what is left
// between it and `agent` is the instrumentation's own cost (spans, headers, export of its spans).
// Both agent modes run the loop inside an active span (IN_SPAN, see the worker), as a traced app
// does: on Node 20 that switches on async_hooks, a cost of the agent that amqplib does not add.
const MODES = { none: 'no agent', off: 'agent, amqplib off', agent: 'agent' };

function run(mode) {
  const agent = mode !== 'none';
  const args = ['--preserve-symlinks', ...(agent ? ['--import', path.join(ROOT, 'register.mjs')] : []), path.join(HERE, 'amqplib-worker.cjs')];
  const env = {
    ...process.env,
    AMQP_URL: url, SECONDS: String(seconds), CONCURRENCY: String(concurrency),
    TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: `http://127.0.0.1:${sink.address().port}/v1/traces`, TRACING_MESSAGING_ROOT_SPANS: 'true',
    // Every message is two spans: a queue that holds a few seconds of them, so none are dropped.
    TRACING_BATCH_QUEUE_SIZE: '65536', TRACING_BATCH_SIZE: '2048', TRACING_BATCH_DELAY_MS: '200',
    IN_SPAN: agent ? '1' : '0',
    ...(mode === 'off' ? { TRACING_DISABLED_INSTRUMENTATIONS: 'amqplib' } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}

const results = { none: [], off: [], agent: [] };
const order = Object.keys(MODES);
for (let r = 0; r < rounds; r++) {
  // Rotate the order so no mode always runs first (or right after another).
  for (const mode of [...order.slice(r % 3), ...order.slice(0, r % 3)]) {
    const res = await run(mode);
    results[mode].push({ perSecond: res.roundTrips / res.seconds, cpuUsPerRoundTrip: res.cpuUs / res.roundTrips });
  }
}
sink.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = {};
for (const mode of order) {
  summary[mode] = { roundTripsPerSecond: Math.round(median(results[mode].map((x) => x.perSecond))), cpuUsPerRoundTrip: Number(median(results[mode].map((x) => x.cpuUsPerRoundTrip)).toFixed(1)) };
}
console.log(`amqplib 2 publish+consume, concurrency ${concurrency}, ${rounds} rounds × ${seconds} s, medians (node ${process.version}):`);
for (const mode of order) {
  console.log(`  ${MODES[mode].padEnd(18)}: ${String(summary[mode].roundTripsPerSecond).padStart(6)} round trips/s, ${summary[mode].cpuUsPerRoundTrip} µs CPU per round trip`);
}
console.log(`  agent / no agent  : ${(summary.agent.roundTripsPerSecond / summary.none.roundTripsPerSecond).toFixed(2)}× throughput, +${(summary.agent.cpuUsPerRoundTrip - summary.none.cpuUsPerRoundTrip).toFixed(1)} µs CPU per round trip`);
console.log(`  of which amqplib  : +${(summary.agent.cpuUsPerRoundTrip - summary.off.cpuUsPerRoundTrip).toFixed(1)} µs CPU per round trip (agent − agent with amqplib off)`);
console.log(`  exported : ${(exportedBytes / 1024).toFixed(0)} KiB of OTLP to the sink`);
