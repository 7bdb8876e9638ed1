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
// Usage: node benchmarks/micro/export-path.mjs [--spans 200000] [--rounds 5] [--rate 20000] --agents /build/a,/build/b
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
  process.stdout.write(JSON.stringify({ cpuUs: cpu.user + cpu.system, rssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
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
      execFile(process.execPath, [fileURLToPath(import.meta.url), '--child', '--root', root, '--url', url, '--spans', String(spans), '--rate', String(rate)], { env: { ...process.env, TRACING_LOG_LEVEL: 'error' } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))));
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
console.log(`\nsink received ${(received / 1e6).toFixed(1)} MB`);
