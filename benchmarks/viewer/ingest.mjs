// How many spans per second the viewer ingests: protobuf batches of 512 spans, encoded by our own
// exporter's encoder, POSTed over HTTP (keep-alive, a few in flight) to the viewer's receiver,
// decoded and stored under the default 100,000-span bound (so eviction runs in the last rounds).
// Also reports the decoder alone (no HTTP, no store), to show where the time goes.
// Run: npm run build && node --expose-gc benchmarks/viewer/ingest.mjs [batches=400] [inFlight=4]
// (--expose-gc adds the heap the full store takes, per span.)
import { createRequire } from 'node:module';
import http from 'node:http';
const require = createRequire(import.meta.url);
const { startViewer } = require('../../dist/src/viewer/viewer.js');
const { OtlpProtobufEncoder } = require('../../dist/src/export/otlp-protobuf.js');
const { buildResource } = require('../../dist/src/export/resource.js');
const { decodeOtlpProtobuf } = require('../../dist/src/viewer/otlp-protobuf-decoder.js');

const BATCH = 512;
const SPANS_PER_TRACE = 16;
const batches = Number(process.argv[2] ?? 400);
const inFlight = Number(process.argv[3] ?? 4);

const hex = (n, width) => n.toString(16).padStart(width, '0');
let nextId = 1;

/** One batch of realistic http-ish spans: 32 traces of 16 (a server root, clients and db below). */
function makeBatch(encoder, resource) {
  const spans = [];
  const t0 = Date.now();
  for (let tr = 0; tr < BATCH / SPANS_PER_TRACE; tr++) {
    const traceId = hex(nextId++, 32);
    const rootId = hex(nextId++, 16);
    for (let i = 0; i < SPANS_PER_TRACE; i++) {
      const spanId = i === 0 ? rootId : hex(nextId++, 16);
      spans.push({
        traceId,
        spanId,
        parentSpanId: i === 0 ? '' : rootId,
        traceState: '',
        traceFlags: 1,
        name: i === 0 ? 'GET /api/orders/:id' : i % 2 ? 'SELECT orders' : 'GET',
        kind: i === 0 ? 2 : 3,
        startMs: t0 + i * 0.5,
        durationMs: i === 0 ? 12.5 : 0.4,
        attributes: [
          { key: 'http.method', value: 'GET' },
          { key: 'http.url', value: `http://inventory.internal:8080/api/items/${i}?expand=true` },
          { key: 'http.status_code', value: 200 },
          { key: 'component', value: i % 2 ? 'pg' : 'http' },
          { key: 'peer.service', value: 'inventory' },
          { key: 'net.peer.port', value: 8080 },
        ],
        events: [],
        links: [],
        statusCode: 0,
        statusMessage: '',
      });
    }
  }
  return encoder.encode(spans, resource);
}

const encoder = new OtlpProtobufEncoder();
const resource = buildResource({ 'service.name': 'orders-api', 'service.version': '1.4.2' });
const bodies = Array.from({ length: batches }, () => makeBatch(encoder, resource));
const bytes = bodies.reduce((n, b) => n + b.length, 0);

// Decoder alone, on the same bodies (median of 3 rounds over 50 batches).
const decodeRounds = [];
for (let round = 0; round < 3; round++) {
  const start = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < Math.min(50, batches); i++) n += decodeOtlpProtobuf(bodies[i]).spans.length;
  decodeRounds.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
}
decodeRounds.sort((a, b) => a - b);

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const viewer = await startViewer({ port: 0, otlpPort: 0 });
const url = new URL(viewer.otlpUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const start = process.hrtime.bigint();
let next = 0;
await Promise.all(Array.from({ length: inFlight }, async () => {
  while (next < bodies.length) await post(bodies[next++]);
}));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const stats = viewer.store.stats();
// A list request with the store full, as the page makes on every live update.
const listStart = process.hrtime.bigint();
viewer.store.list({});
viewer.store.list({ service: 'orders-api', minDurationMs: 5 });
const listMs = Number(process.hrtime.bigint() - listStart) / 1e6 / 2;
let heapPerSpan = '';
if (globalThis.gc) {
  globalThis.gc();
  heapPerSpan = `; heap ${Math.round((process.memoryUsage().heapUsed - heapBefore) / stats.spans)} bytes/span`;
}
agent.destroy();
await viewer.close();

const spans = batches * BATCH;
console.log(`node ${process.version}, ${batches} batches × ${BATCH} spans (${(bytes / batches / 1024).toFixed(0)} KiB each), ${inFlight} in flight`);
console.log(`ingest over HTTP: ${Math.round(spans / seconds).toLocaleString('en-US')} spans/s (${seconds.toFixed(2)} s for ${spans.toLocaleString('en-US')} spans)`);
console.log(`decoder alone:    ${Math.round(decodeRounds[1]).toLocaleString('en-US')} spans/s (median of 3)`);
console.log(`store after: ${stats.spans.toLocaleString('en-US')} spans in ${stats.traces.toLocaleString('en-US')} traces, evicted ${stats.evictedTraces.toLocaleString('en-US')} traces; list at the bound: ${listMs.toFixed(1)} ms${heapPerSpan}`);
