import t from 'tap';
import { Tracer, InMemorySpanExporter, Tags, recordError, followsFrom } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { OtlpProtobufEncoder } from '../../../src/export/otlp-protobuf.js';
import { encodeOtlpJson } from '../../../src/export/otlp-json.js';
import { buildResource, SDK_NAME, SDK_VERSION } from '../../../src/export/resource.js';

// The official generated code (from opentelemetry-proto), not ours, decides what the bytes mean.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

function decode(buf: Buffer): any {
  return Request.toObject(Request.decode(buf), { longs: String, enums: Number, bytes: String, defaults: false });
}
const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');

function sample() {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const cause = tracer.startSpan('cause', { startTime: 1_700_000_000_000 });
  cause.finish(1_700_000_000_001);
  const root = tracer.startSpan('GET /users', { startTime: 1_700_000_000_123.25, tags: { [Tags.SPAN_KIND]: 'server', 'http.status_code': 200, ratio: 0.25, big: -5_000_000_000, ok: true, text: 'héllo ✓' } });
  const child = tracer.startSpan('db', { childOf: root, references: [followsFrom(cause)], tags: { [Tags.SPAN_KIND]: 'client', 'db.statement': 'x'.repeat(300) } });
  recordError(child, new Error('db down'));
  child.finish(1_700_000_000_200);
  root.finish(1_700_000_000_250.5);
  return { spans: exporter.getFinishedSpans().map((s) => mapSpan(s, { exportBaggage: false })), root, child, cause };
}

t.test('protobuf output decodes with the official definitions, field for field', async (t) => {
  const { spans, root, child, cause } = sample();
  const resource = buildResource({ 'service.name': 'shop', 'service.version': '1.2.3' });
  const msg = decode(new OtlpProtobufEncoder().encode(spans, resource));
  t.equal(msg.resourceSpans.length, 1);
  const rs = msg.resourceSpans[0];
  const resAttrs = Object.fromEntries(rs.resource.attributes.map((kv: any) => [kv.key, kv.value.stringValue ?? kv.value.intValue]));
  t.equal(resAttrs['service.name'], 'shop');
  t.equal(resAttrs['service.version'], '1.2.3');
  t.equal(resAttrs['telemetry.sdk.name'], SDK_NAME);
  t.equal(resAttrs['telemetry.sdk.version'], SDK_VERSION);
  t.same(rs.scopeSpans[0].scope, { name: SDK_NAME, version: SDK_VERSION });
  const out = rs.scopeSpans[0].spans;
  t.same(out.map((s: any) => s.name), ['cause', 'db', 'GET /users']);

  const r = out[2];
  t.equal(hex(r.traceId), root.context().traceId);
  t.equal(hex(r.spanId), root.context().spanId);
  t.equal(r.parentSpanId, undefined, 'a root has no parent id');
  t.equal(r.kind, 2);
  // .25 ms is exact in a double, so the nanoseconds must be too (no float rounding on the way).
  t.equal(r.startTimeUnixNano, '1700000000123250000', 'start time is exact to the nanosecond');
  t.equal(r.endTimeUnixNano, '1700000000250500000');
  const attrs = Object.fromEntries(r.attributes.map((kv: any) => [kv.key, kv.value]));
  t.same(attrs['http.status_code'], { intValue: '200' });
  t.same(attrs.ratio, { doubleValue: 0.25 });
  t.same(attrs.big, { intValue: '-5000000000' });
  t.same(attrs.ok, { boolValue: true });
  t.same(attrs.text, { stringValue: 'héllo ✓' });
  // Span.flags (field 16) came with OTLP 1.1; these generated definitions predate it, so the
  // decoder skips it as an unknown field, which is exactly what older receivers must do.
  t.ok(r.flags === undefined || r.flags === 3, 'flags are skipped or carry sampled + random');

  const c = out[1];
  t.equal(hex(c.parentSpanId), root.context().spanId);
  t.equal(c.kind, 3);
  t.same(c.status, { code: 2, message: 'db down' });
  t.equal(c.events[0].name, 'exception');
  t.equal(hex(c.links[0].spanId), cause.context().spanId);
  t.equal(c.attributes.find((kv: any) => kv.key === 'db.statement').value.stringValue.length, 300, 'long values survive length widening');
  t.equal(child.context().traceId, hex(c.traceId));
});

t.test('large batches (buffer growth, multi-byte lengths) decode intact', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  for (let i = 0; i < 400; i++) tracer.startSpan(`op-${i}`, { tags: { i, payload: 'p'.repeat(i * 10) } }).finish();
  const spans = exporter.getFinishedSpans().map((s) => mapSpan(s, { exportBaggage: false }));
  const encoder = new OtlpProtobufEncoder();
  encoder.encode(spans.slice(0, 3), buildResource({}));
  const msg = decode(encoder.encode(spans, buildResource({})));
  const out = msg.resourceSpans[0].scopeSpans[0].spans;
  t.equal(out.length, 400);
  t.equal(out[399].name, 'op-399');
  t.equal(out[399].attributes.find((kv: any) => kv.key === 'payload').value.stringValue.length, 3990);
});

t.test('spans of every length class (one, two and three length bytes) decode intact, in order', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  // Nested lengths are written after the message: one that needs more bytes than reserved moves it.
  const sizes = [0, 20, 100, 5000, 16_300, 16_400, 20_000, 70_000, 10];
  for (const size of sizes) tracer.startSpan(`op-${size}`, { tags: { payload: 'p'.repeat(size) } }).finish();
  const spans = exporter.getFinishedSpans().map((s) => mapSpan(s, { exportBaggage: false }));
  const out = decode(new OtlpProtobufEncoder().encode(spans, buildResource({ 'service.name': 'shop' }))).resourceSpans[0].scopeSpans[0].spans;
  t.same(out.map((s: any) => s.name), sizes.map((size) => `op-${size}`));
  t.same(out.map((s: any) => s.attributes[0].value.stringValue.length), sizes);
  t.same(out.map((s: any) => hex(s.spanId)), exporter.getFinishedSpans().map((s) => s.context().spanId));
});

t.test('OTLP/JSON uses hex ids, numeric enums and string int64s', async (t) => {
  const { spans, root } = sample();
  const body = JSON.parse(encodeOtlpJson(spans, buildResource({ 'service.name': 'shop' })).toString());
  const r = body.resourceSpans[0].scopeSpans[0].spans[2];
  t.equal(r.traceId, root.context().traceId);
  t.equal(r.kind, 2);
  t.equal(r.startTimeUnixNano, '1700000000123250000');
  t.same(r.attributes.find((kv: any) => kv.key === 'http.status_code').value, { intValue: '200' });
  t.same(body.resourceSpans[0].scopeSpans[0].spans[1].status, { code: 2, message: 'db down' });
});

t.test('nanosecond timestamps without BigInt match the exact BigInt computation', async (t) => {
  const { ProtoWriter } = await import('../../../src/export/protobuf-writer.js');
  const { msToNanos } = await import('../../../src/export/time.js');
  const samples = [0, 1, 0.5, 1_700_000_000_000, 1_700_000_000_123.25, 4_102_444_800_000.75, 2 ** 32 / 1e6, 2 ** 21 * 2048 + 0.001];
  for (let i = 0; i < 200; i++) samples.push(Math.random() * 4e12);
  for (const ms of samples) {
    const w = new ProtoWriter(16);
    w.nanosFromMs(1, ms);
    const got = w.finish().readBigUInt64LE(1);
    if (got !== msToNanos(ms)) t.fail(`${ms}: ${got} != ${msToNanos(ms)}`);
  }
  t.pass(`${samples.length} timestamps agree`);
});
