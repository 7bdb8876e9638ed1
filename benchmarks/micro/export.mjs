// Export micro benchmark: spans encoded per second and bytes per span for each protocol, then
// spans delivered per second through the whole pipeline (batch processor + HTTP) to a local sink.
// Run: npx tsc -p . && node benchmarks/micro/export.mjs
import { createRequire } from 'node:module';
import * as http from 'node:http';
const require = createRequire(import.meta.url);
const { Tracer, InMemorySpanExporter, Tags, recordError } = require('../../dist/src/index.js');
const { mapSpan } = require('../../dist/src/export/span-model.js');
const { OtlpProtobufEncoder } = require('../../dist/src/export/otlp-protobuf.js');
const { encodeOtlpJson } = require('../../dist/src/export/otlp-json.js');
const { encodeZipkin } = require('../../dist/src/export/zipkin-json.js');
const { buildResource } = require('../../dist/src/export/resource.js');
const { createSpanProcessor } = require('../../dist/src/export/pipeline.js');
const { defaultConfig } = require('../../dist/src/config/load.js');
const { setLogLevel } = require('../../dist/src/util/log.js');
// Drops are counted and printed below; the once-a-minute warning would only repeat them.
setLogLevel('error');

const BATCH = 512;
const ROUNDS = 5;
const resourceTags = { 'service.name': 'bench', 'service.version': '1.0.0' };
const resource = buildResource(resourceTags);

/** Typical HTTP server/client spans: 6 tags, a few with an error log. */
function makeSpans(n) {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  for (let i = 0; i < n; i++) {
    const root = tracer.startSpan('GET /api/orders/:id', { tags: { [Tags.SPAN_KIND]: 'server', 'http.method': 'GET', 'http.url': `http://shop.local/api/orders/${i}`, 'http.status_code': 200, 'http.route': '/api/orders/:id', component: 'http' } });
    if (i % 10 === 0) recordError(root, new Error('boom'));
    root.finish();
  }
  return memory.getFinishedSpans();
}

const spans = makeSpans(BATCH);
const proto = new OtlpProtobufEncoder();
const encoders = {
  'otlp http/protobuf': (mapped) => proto.encode(mapped, resource),
  'otlp http/json': (mapped) => encodeOtlpJson(mapped, resource),
  'zipkin json': (mapped) => encodeZipkin(mapped, 'bench'),
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log(`Node ${process.version}; batches of ${BATCH} spans (6 tags each, 1 in 10 with an error event); median of ${ROUNDS} rounds`);
console.log('\nencoding (map + encode, one batch per call)');
for (const [name, encode] of Object.entries(encoders)) {
  const rates = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    let encoded = 0;
    while (process.hrtime.bigint() - start < 300_000_000n) {
      const body = encode(spans.map((s) => mapSpan(s, { exportBaggage: false })));
      bytes = body.length;
      encoded += spans.length;
    }
    rates.push(encoded / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  console.log(`  ${name.padEnd(20)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(10)} spans/s   ${(bytes / spans.length).toFixed(0).padStart(4)} bytes/span`);
}

// Delivery: the real pipeline to a sink that reads and discards each body (an HTTP/1.1 one, and an
// HTTP/2 one answering each OTLP/gRPC call with an empty response and grpc-status 0).
const sink = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${sink.address().port}`;
const http2 = await import('node:http2');
const grpcSink = http2.createServer();
grpcSink.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.resume().on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
await new Promise((r) => grpcSink.listen(0, '127.0.0.1', r));
const grpcBase = `http://127.0.0.1:${grpcSink.address().port}`;
console.log('\ndelivery (spans finished -> batch processor -> HTTP or HTTP/2 -> local sink in this process; CPU includes the sink)');
for (const [label, patch] of [
  ['otlp http/protobuf', { exporters: ['otlp'], protocol: 'http/protobuf' }],
  ['otlp http/json', { exporters: ['otlp'], protocol: 'http/json' }],
  ['otlp grpc', { exporters: ['otlp'], protocol: 'grpc' }],
  ['otlp grpc, gzip', { exporters: ['otlp'], protocol: 'grpc', compression: 'gzip' }],
  ['otlp http/protobuf, gzip', { exporters: ['otlp'], protocol: 'http/protobuf', compression: 'gzip' }],
  ['zipkin json', { exporters: ['zipkin'] }],
]) {
  const rates = [];
  const cpus = [];
  let droppedTotal = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const cfg = { ...defaultConfig().export, ...patch, endpoint: patch.protocol === 'grpc' ? grpcBase : `${base}/v1/traces`, zipkinEndpoint: `${base}/api/v2/spans` };
    cfg.batch = { maxQueueSize: 8192, maxExportBatchSize: BATCH, scheduledDelayMs: 5 };
    const processor = createSpanProcessor(cfg, resourceTags);
    const tracer = new Tracer({ processor });
    const total = 20_000;
    const cpuBefore = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < total; i++) {
      const span = tracer.startSpan('GET /api/orders/:id', { tags: { [Tags.SPAN_KIND]: 'server', 'http.method': 'GET', 'http.status_code': 200 } });
      span.finish();
      // Yield now and then, as a server would between requests, so batches can go out.
      if (i % 1024 === 1023) await new Promise((r) => setImmediate(r));
    }
    await tracer.close();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const dropped = processor.droppedSpans ?? 0;
    droppedTotal += dropped;
    rates.push((total - dropped) / seconds);
    const cpu = process.cpuUsage(cpuBefore);
    cpus.push((cpu.user + cpu.system) / (total - dropped));
  }
  console.log(`  ${label.padEnd(24)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(10)} spans/s delivered   ${median(cpus).toFixed(2).padStart(6)} CPU µs/span   (${droppedTotal} of ${ROUNDS * 20_000} dropped by the bounded queue)`);
}
sink.close();
grpcSink.close();
