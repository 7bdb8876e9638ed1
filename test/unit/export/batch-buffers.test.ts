import t from 'tap';
import * as net from 'node:net';
import { Tracer, InMemorySpanExporter, Tags } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { OtlpProtobufEncoder, OtlpBatchEncoder, encodeEnvelope } from '../../../src/export/otlp-protobuf.js';
import { BatchSpanProcessor } from '../../../src/export/batch-processor.js';
import { OtlpSpanExporter } from '../../../src/export/otlp.js';
import { buildResource } from '../../../src/export/resource.js';
import type { EncodedBatch } from '../../../src/export/span-processor.js';
import type { Span } from '../../../src/api/span.js';
import { Collector } from '../../helpers/collector.js';

// A sealed batch's buffer is the request body itself (no copy), and goes back to the encoder once
// the transport is done with it. Neither may ever change the bytes of a batch still in use.

const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

const resource = buildResource({ 'service.name': 'shop' });

function finishedSpans(prefix: string, n: number): Span[] {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan(`${prefix} ${i}`, { tags: { [Tags.SPAN_KIND]: 'server', 'http.url': `http://shop.local/${prefix}/${i}`, 'http.status_code': 200 } });
    span.finish();
  }
  return [...memory.getFinishedSpans()];
}

function reference(spans: Span[]): Buffer {
  return new OtlpProtobufEncoder().encode(spans.map((s) => mapSpan(s, { exportBaggage: false })), resource);
}

function sealed(encoder: OtlpBatchEncoder, spans: Span[]): EncodedBatch {
  for (const s of spans) encoder.append(s);
  return encoder.seal();
}

t.test('a batch is never written over before it is released; released memory serves a later batch', async (t) => {
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  const a = finishedSpans('a', 300);
  const b = finishedSpans('b', 200);
  const c = finishedSpans('c', 250);
  const first = sealed(encoder, a);
  const second = sealed(encoder, b);
  t.ok(first.bytes.equals(reference(a)), 'first batch: the reference bytes');
  t.ok(second.bytes.equals(reference(b)), 'second batch: the reference bytes');
  t.not(second.bytes.buffer, first.bytes.buffer, 'an unreleased batch keeps its memory to itself');

  first.release!();
  first.release!(); // twice: no effect
  // The open batch is already being written in the buffer taken at the last seal: the released one
  // is handed to the writer at the next seal, for the batch after it.
  const third = sealed(encoder, c);
  t.ok(third.bytes.equals(reference(c)), 'third batch: the reference bytes');
  const fourth = sealed(encoder, a);
  t.equal(fourth.bytes.buffer, first.bytes.buffer, 'the released buffer is reused');
  t.ok(fourth.bytes.equals(reference(a)), 'fourth batch, in reused memory: the reference bytes');
  t.ok(second.bytes.equals(reference(b)) && third.bytes.equals(reference(c)), 'the unreleased batches are untouched');

  // Only one spare is kept: releasing two batches does not let two batches share memory.
  second.release!();
  third.release!();
  const fifth = sealed(encoder, b);
  const sixth = sealed(encoder, c);
  const seventh = sealed(encoder, a);
  t.equal(new Set([fifth, sixth, seventh].map((x) => x.bytes.buffer)).size, 3, 'three batches in flight, three buffers');
  t.ok(fifth.bytes.equals(reference(b)) && sixth.bytes.equals(reference(c)) && seventh.bytes.equals(reference(a)), 'all intact');
});

t.test('the headroom before a batch is the batch\'s own: a transport may frame the body in place', async (t) => {
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  const spans = finishedSpans('h', 20);
  const batch = sealed(encoder, spans);
  t.ok((batch.headroom ?? 0) >= 5, `room for a gRPC prefix (${batch.headroom} bytes)`);
  const framed = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset - 5, batch.bytes.length + 5);
  framed.fill(0xee, 0, 5);
  t.ok(batch.bytes.equals(reference(spans)), 'writing the headroom leaves the body as it was');
  const next = sealed(encoder, finishedSpans('n', 3));
  t.ok(next.bytes.byteOffset + next.bytes.length <= next.bytes.buffer.byteLength && batch.bytes.equals(reference(spans)), 'the next batch does not touch it either');
});

t.test('an empty batch and a span larger than the whole buffer', async (t) => {
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  const empty = encoder.seal();
  t.equal(empty.count, 0);
  t.ok(empty.bytes.equals(reference([])), 'an empty batch is the envelope alone');
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  tracer.startSpan('huge', { tags: { 'db.statement': 'x'.repeat(200_000) } }).finish();
  const huge = [...memory.getFinishedSpans()];
  empty.release!();
  const batch = sealed(encoder, huge);
  t.ok(batch.bytes.equals(reference(huge)), 'the buffer grows for it, bytes intact');
  batch.release!();
  const after = finishedSpans('after', 5);
  t.ok(sealed(encoder, after).bytes.equals(reference(after)), 'the next batch in the grown buffer');
});

t.test('through the real pipeline: every span arrives once, intact, while bodies take turns in two buffers', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const exporter = new OtlpSpanExporter({ url: collector.otlpUrl, resource: { 'service.name': 'shop' } });
  // What each batch held when it was handed to the transport, and which memory it was in.
  const sent: { bytes: Buffer; memory: ArrayBufferLike }[] = [];
  const exportEncoded = exporter.exportEncoded.bind(exporter);
  exporter.exportEncoded = (batch: EncodedBatch) => {
    sent.push({ bytes: Buffer.from(batch.bytes), memory: batch.bytes.buffer });
    return exportEncoded(batch);
  };
  const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: 40, scheduledDelayMs: 5 });
  const tracer = new Tracer({ processor });
  for (let chunk = 0; chunk < 12; chunk++) {
    for (let i = 0; i < 40; i++) {
      const span = tracer.startSpan(`op ${chunk * 40 + i}`);
      span.setTag('http.url', `http://shop.local/${'é'.repeat(chunk)}${i}`);
      span.finish();
    }
    // Each batch delivered before the next is sealed (however slow the machine): steady state.
    for (let waited = 0; processor.pendingCount() > 0 && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
  }
  await processor.forceFlush();
  await collector.waitForSpans(480);
  t.equal(collector.spans.length, 480, 'every span once');
  t.same(collector.spans.map((s) => s.name), Array.from({ length: 480 }, (_, i) => `op ${i}`), 'in order');
  t.equal(collector.decodeErrors.length, 0);
  t.equal(collector.bodies.length, sent.length);
  t.ok(sent.every((s, i) => s.bytes.equals(collector.bodies[i]!)), 'each body arrived as it was when sealed');
  t.equal(new Set(sent.map((s) => s.memory)).size, 2, '12 batches in two buffers, taking turns');
  await processor.shutdown();
});

t.test('over OTLP/HTTP the request goes out from the batch\'s memory, its head in the room before the body', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const writes: ArrayBufferLike[] = [];
  const write = net.Socket.prototype.write;
  t.teardown(() => { net.Socket.prototype.write = write; });
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    if (Buffer.isBuffer(args[0]) && args[0].length > 1000) writes.push(args[0].buffer);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  for (const headers of [{}, { authorization: `Bearer ${'t'.repeat(5000)}` }] as Record<string, string>[]) {
    writes.length = 0;
    const exporter = new OtlpSpanExporter({ url: collector.otlpUrl, headers, resource: { 'service.name': 'shop' } });
    const memory: ArrayBufferLike[] = [];
    const sent: Buffer[] = [];
    const exportEncoded = exporter.exportEncoded.bind(exporter);
    exporter.exportEncoded = (batch: EncodedBatch) => {
      memory.push(batch.bytes.buffer);
      sent.push(Buffer.from(batch.bytes));
      return exportEncoded(batch);
    };
    const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: 30, scheduledDelayMs: 5 });
    const tracer = new Tracer({ processor });
    const before = collector.bodies.length;
    for (let chunk = 0; chunk < 3; chunk++) {
      for (let i = 0; i < 30; i++) tracer.startSpan(`op ${i}`, { tags: { 'http.url': `http://shop.local/${'x'.repeat(40)}/${i}` } }).finish();
      await processor.forceFlush();
    }
    t.equal(collector.bodies.length - before, 3, 'three bodies');
    t.ok(sent.every((b, i) => b.equals(collector.bodies[before + i]!)), 'each arrived as it was sealed');
    t.equal(writes.length, 3, 'one write each');
    if (headers.authorization === undefined) t.same(writes, memory, "each written from its batch's memory");
    else t.ok(writes.every((w, i) => w !== memory[i]), 'a head too long for the room: head and body copied, as before');
    await processor.shutdown();
  }
});

t.test('a batch that needed a retry is not reused, and still arrives intact', async (t) => {
  const collector = await Collector.start({ fault: { status: 503, times: 1 } });
  t.teardown(() => collector.close());
  const exporter = new OtlpSpanExporter({ url: collector.otlpUrl, initialBackoffMs: 5, maxBackoffMs: 20, resource: { 'service.name': 'shop' } });
  const releases: boolean[] = [];
  const exportEncoded = exporter.exportEncoded.bind(exporter);
  exporter.exportEncoded = (batch: EncodedBatch) => {
    const release = batch.release!;
    let released = false;
    const watched: EncodedBatch = { count: batch.count, bytes: batch.bytes, headroom: batch.headroom, release: () => ((released = true), release()) };
    return exportEncoded(watched).then(() => void releases.push(released));
  };
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 5 });
  const tracer = new Tracer({ processor });
  for (let i = 0; i < 3; i++) tracer.startSpan(`first ${i}`).finish();
  await processor.forceFlush();
  for (let i = 0; i < 3; i++) tracer.startSpan(`second ${i}`).finish();
  await processor.forceFlush();
  t.same(releases, [false, true], 'the retried body is left to the GC; the next one, sent once, is released');
  t.same(collector.spans.map((s) => s.name), ['first 0', 'first 1', 'first 2', 'second 0', 'second 1', 'second 2']);
  await processor.shutdown();
});
