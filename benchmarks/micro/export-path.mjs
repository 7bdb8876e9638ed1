// The export path alone, build against build: CPU per exported span (all threads: finish, queue,
// encoding, the exporter's HTTP request, GC) and peak RSS, for spans shaped like an http server span
// (seven tags). Each sample is a fresh child process that finishes --spans spans in chunks of 500
// (a macrotask between chunks, so batches leave as they would under load) through the real OTLP
// pipeline (batch processor + OTLP/protobuf exporter) to a sink in this process, then flushes.
// Spans are finished as fast as the process can, far faster than batches leave: the queue holds most
// of the sample's batches at once (a burst). --rate N finishes N spans a second instead, in chunks of
// 50 on a timer: a server's steady state, where each batch leaves long before the next one is full
// (the CPU then includes the idle loop's wake-ups, the same for every build).
// Builds alternate sample by sample; medians.
// --blocks also times, per batch, the two pieces of work the send does on the main thread without
// yielding (wall time, medians over the sample's batches): the processor's call that starts the send
// (sealing, the exporter, the retry loop, the transport up to its write) and the socket write of the
// body (`uncork`: the kernel's writev, which on loopback also runs the collector's side of TCP). Where
// both happen in one call, the first includes the second; each is one stall of the app's event loop.
// Usage: node benchmarks/micro/export-path.mjs [--spans 200000] [--rounds 5] [--rate 20000] [--blocks] --agents /build/a,/build/b
import { execFile } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const spans = Number(arg('spans', '200000'));
const rounds = Number(arg('rounds', '5'));
const rate = Number(arg('rate', '0'));
const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));

if (process.argv.includes('--child')) {
  const root = arg('root', '');
  const url = arg('url', '');
  const { createRequire } = await import('node:module');
  const require = createRequire(path.join(root, 'package.json'));
  const { Tracer } = require(path.join(root, 'dist/src/index.js'));
  const { createSpanProcessor } = require(path.join(root, 'dist/src/export/pipeline.js'));
  const { defaultConfig } = require(path.join(root, 'dist/src/config/load.js'));
  const cfg = defaultConfig().export;
  cfg.endpoint = url;
  // Nothing dropped: every span of the sample is encoded and sent.
  cfg.batch.maxQueueSize = 1_000_000;
  const blocks = { send: [], write: [] };
  if (process.argv.includes('--blocks')) {
    const timed = (proto, name, into, when = () => true) => {
      const original = proto[name];
      proto[name] = function (...args) {
        const measure = when(this);
        const start = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          if (measure) into.push(performance.now() - start);
        }
      };
    };
    const { BatchProcessor } = require(path.join(root, 'dist/src/export/batch-processor.js'));
    const net = await import('node:net');
    // exportNext runs from the processor's immediate or timer and again after each answer (then with nothing due).
    timed(BatchProcessor.prototype, 'exportNext', blocks.send, (p) => p.inFlight === null && p.queued() > 0);
    timed(net.Socket.prototype, 'uncork', blocks.write, (socket) => socket.writableLength >= 16 * 1024);
  }
  const processor = createSpanProcessor(cfg, { 'service.name': 'export-path' });
  const tracer = new Tracer({ processor, resource: { 'service.name': 'export-path' } });
  // The agent's sockets and timers are unref'd: hold the loop open until the flush is done.
  const hold = setInterval(() => {}, 1000);
  const startCpu = process.cpuUsage();
  let made = 0;
  const chunkSize = rate > 0 ? 50 : 500;
  await new Promise((resolve) => {
    const chunk = () => {
      for (let i = 0; i < chunkSize && made < spans; i++, made++) {
        const span = tracer.startSpan('GET /orders/:id');
        span.setTag('span.kind', 'server');
        span.setTag('component', 'http');
        span.setTag('http.method', 'GET');
        span.setTag('http.url', `http://shop.local/orders/${made}`);
        span.setTag('http.route', '/orders/:id');
        span.setTag('peer.ipv4', '127.0.0.1');
        span.setTag('http.status_code', 200);
        span.finish();
      }
      if (made >= spans) resolve();
      else if (rate > 0) setTimeout(chunk, (chunkSize * 1000) / rate);
      else setImmediate(chunk);
    };
    chunk();
  });
  await tracer.flush();
  const cpu = process.cpuUsage(startCpu);
  clearInterval(hold);
  const mid = (xs) => (xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[xs.length >> 1] * 1000);
  process.stdout.write(JSON.stringify({ cpuUs: cpu.user + cpu.system, rssMb: process.resourceUsage().maxRSS / 1024, sendUs: mid(blocks.send), writeUs: mid(blocks.write) }) + '\n');
  process.exit(0);
}

let received = 0;
const sink = http.createServer((req, res) => {
  req.on('data', (c) => (received += c.length));
  req.on('end', () => res.writeHead(200).end());
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${sink.address().port}/v1/traces`;

const samples = new Map(agents.map((a) => [a, []]));
for (let round = 0; round < rounds; round++) {
  for (const root of round % 2 === 0 ? agents : [...agents].reverse()) {
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [fileURLToPath(import.meta.url), '--child', '--root', root, '--url', url, '--spans', String(spans), '--rate', String(rate), ...(process.argv.includes('--blocks') ? ['--blocks'] : [])], { env: { ...process.env, TRACING_LOG_LEVEL: 'error' } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))));
    });
    samples.get(root).push(out);
  }
}
sink.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${spans} spans per sample${rate > 0 ? ` at ${rate} a second` : ' (a burst)'}, ${rounds} rounds alternating, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| build | CPU µs per exported span (median) | samples | peak RSS MB (median) |');
console.log('|---|---:|---|---:|');
for (const root of agents) {
  const s = samples.get(root);
  console.log(`| ${root} | ${median(s.map((x) => x.cpuUs / spans)).toFixed(2)} | ${s.map((x) => (x.cpuUs / spans).toFixed(2)).join(', ')} | ${median(s.map((x) => x.rssMb)).toFixed(0)} |`);
}
if (process.argv.includes('--blocks')) {
  console.log('');
  console.log('| build | per batch: the call that starts the send, µs (median of samples; samples) | the write of the body (uncork), µs |');
  console.log('|---|---:|---:|');
  const f = (x) => (x === null ? '—' : x.toFixed(0));
  for (const root of agents) {
    const s = samples.get(root);
    console.log(`| ${root} | ${f(median(s.map((x) => x.sendUs)))} (${s.map((x) => f(x.sendUs)).join(', ')}) | ${f(median(s.map((x) => x.writeUs)))} (${s.map((x) => f(x.writeUs)).join(', ')}) |`);
  }
}
console.log(`\nsink received ${(received / 1e6).toFixed(1)} MB`);
