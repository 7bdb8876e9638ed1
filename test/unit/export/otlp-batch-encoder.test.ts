import t from 'tap';
import { Tracer, InMemorySpanExporter, Tags, recordError, followsFrom, childOf } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { OtlpProtobufEncoder, encodeEnvelope } from '../../../src/export/otlp-protobuf.js';
import { OtlpBatchEncoder } from '../../../src/export/otlp-protobuf.js';
import { buildResource } from '../../../src/export/resource.js';
import type { Span } from '../../../src/api/span.js';

// Spans encoded one by one as they finish must give the very bytes the batch encoder (the one the
// official-definition tests decode) gives for the same spans: same fields, same order, same lengths.

const shop = buildResource({ 'service.name': 'shop' });
/** The batch encoder's bytes for `spans`, appended one by one into one batch (resource: service shop). */
function batchBytes(spans: readonly Span[]): Buffer {
  const encoder = new OtlpBatchEncoder(encodeEnvelope(shop), false);
  for (const s of spans) encoder.append(s);
  return encoder.seal().bytes;
}
/** The one-shot encoder's bytes for the same spans: what the batch encoder must equal byte for byte. */
function oneShotBytes(spans: readonly Span[]): Buffer {
  return new OtlpProtobufEncoder().encode(spans.map((s) => mapSpan(s, { exportBaggage: false })), shop);
}

function variedSpans(n: number): Span[] {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  for (let i = 0; i < n; i++) {
    const root = tracer.startSpan(`GET /orders/${i}`, { tags: { [Tags.SPAN_KIND]: 'server', 'http.status_code': 200 + i, ratio: i / 7, big: 2 ** 40 + i, neg: -i, ok: i % 2 === 0 } });
    root.setBaggageItem('tenant', `t${i}`);
    const child = tracer.startSpan('query', { childOf: root, tags: { [Tags.SPAN_KIND]: 'client', 'db.statement': 'é'.repeat(i % 200) + 'x'.repeat((i * 37) % 300) } });
    if (i % 3 === 0) recordError(child, new Error(`boom ${i}`));
    child.log({ event: 'retry', attempt: i, detail: { nested: true } });
    child.finish();
    const linked = tracer.startSpan('follow', { references: [followsFrom(root.context()), childOf(child.context())] });
    linked.setTag('error', 'true');
    linked.finish();
    root.finish();
  }
  const ctx = tracer.extract('http_headers', {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  });
  tracer.startSpan('remote child', { childOf: ctx }).finish();
  tracer.startSpan('no tags at all').finish();
  return [...memory.getFinishedSpans()];
}

for (const exportBaggage of [false, true]) {
  t.test(`span by span equals the batch encoding, byte for byte (exportBaggage ${exportBaggage})`, async (t) => {
    const spans = variedSpans(60);
    const resource = buildResource({ 'service.name': 'shop', 'service.version': '1.2.3' });
    const expected = new OtlpProtobufEncoder().encode(spans.map((s) => mapSpan(s, { exportBaggage })), resource);
    const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), exportBaggage);
    for (const s of spans) encoder.append(s);
    t.equal(encoder.openCount, spans.length);
    const batch = encoder.seal();
    t.equal(batch.count, spans.length);
    t.ok(batch.bytes.length > 20_000, `a batch with multi-byte lengths (${batch.bytes.length} bytes)`);
    t.ok(batch.bytes.equals(expected), 'identical bytes');
    t.equal(encoder.openCount, 0, 'a new batch begins');

    // The next batch reuses the buffer and still comes out right.
    for (const s of spans.slice(0, 5)) encoder.append(s);
    const again = encoder.seal();
    t.ok(again.bytes.equals(new OtlpProtobufEncoder().encode(spans.slice(0, 5).map((s) => mapSpan(s, { exportBaggage })), resource)));
  });
}

t.test('span messages on each side of the one- and two-byte length limits (127/128, 16383/16384 bytes) come out the same', async (t) => {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  // A span of these ids, name and times is ~60 bytes; the tag's value moves it across both limits byte by byte.
  for (const n of [...Array.from({ length: 110 }, (_, i) => i), ...Array.from({ length: 120 }, (_, i) => 16_240 + i)]) {
    tracer.startSpan('s').setTag('v', 'x'.repeat(n)).finish();
  }
  const spans = [...memory.getFinishedSpans()];
  t.ok(batchBytes(spans).equals(oneShotBytes(spans)), 'identical bytes');
  // The range really crosses both limits.
  const sizes = spans.map((s) => {
    const one = new OtlpBatchEncoder(encodeEnvelope(shop), false);
    const empty = one.seal().bytes.length;
    one.append(s);
    return one.seal().bytes.length - empty;
  });
  t.ok(sizes.some((b) => b <= 129) && sizes.some((b) => b >= 131 && b < 1000), 'spans below and above 128 bytes');
  t.ok(sizes.some((b) => b < 16_386 && b > 1000) && sizes.some((b) => b >= 16_388), 'spans below and above 16 KiB');
});

t.test('names of every length and alphabet, and span.kind and error anywhere among the tags, come out the same', async (t) => {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  // Names: the one-pass ASCII path (under 128 characters) and the general one (longer, or not ASCII).
  const names = ['', 'GET', 'é', 'GET /é', 'a'.repeat(126), 'a'.repeat(127), 'a'.repeat(128), 'a'.repeat(300), `${'a'.repeat(120)}é`];
  // Also a kind's text built at run time (not the literal's string object) and a number (not a kind).
  const kinds = [Tags.SPAN_KIND_RPC_SERVER, Tags.SPAN_KIND_RPC_CLIENT, Tags.SPAN_KIND_MESSAGING_PRODUCER, Tags.SPAN_KIND_MESSAGING_CONSUMER, 'other', undefined, ['con', 'sumer'].join(''), 2];
  const remote = tracer.extract('http_headers', {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE',
  });
  for (let i = 0; i < 120; i++) {
    const parent = i % 3 === 0 ? undefined : i % 3 === 1 ? tracer.startSpan('local parent') : remote;
    const span = tracer.startSpan(names[i % names.length]!, parent === undefined ? undefined : { childOf: parent });
    // The same tag shape span after span (the encoder's memo), with span.kind and error moving around it.
    const kind = kinds[i % kinds.length];
    if (i % 4 === 0 && kind !== undefined) span.setTag(Tags.SPAN_KIND, kind);
    span.setTag('http.method', 'GET');
    if (i % 5 === 1) span.setTag(Tags.ERROR, i % 2 === 0 ? true : 'true');
    if (i % 5 === 2) span.setTag(Tags.ERROR, false);
    span.setTag('http.status_code', 200);
    if (i % 4 !== 0 && kind !== undefined) span.setTag(Tags.SPAN_KIND, kind);
    span.setTag('peer.port', 40_000 + i);
    span.finish();
    if (parent !== undefined && parent !== remote) (parent as Span).finish();
  }
  const spans = [...memory.getFinishedSpans()];
  t.ok(batchBytes(spans).equals(oneShotBytes(spans)), 'identical bytes');
  const mapped = spans.map((s) => mapSpan(s, { exportBaggage: false }));
  t.ok(new Set(mapped.map((m) => m.kind)).size === 5, 'every kind, INTERNAL included');
  t.ok(mapped.some((m) => m.statusCode === 2) && mapped.some((m) => m.parentSpanId !== '' && m.traceState !== ''), 'failed spans and a remote parent with trace state');
});

t.test('an empty resource and a one-span batch', async (t) => {
  const spans = variedSpans(1).slice(0, 1);
  const resource = buildResource({});
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  encoder.append(spans[0]!);
  t.ok(encoder.seal().bytes.equals(new OtlpProtobufEncoder().encode([mapSpan(spans[0]!, { exportBaggage: false })], resource)));
});

t.test('a span that cannot be encoded leaves the open batch as it was', async (t) => {
  const spans = variedSpans(2);
  const resource = buildResource({ 'service.name': 'shop' });
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  encoder.append(spans[0]!);
  const broken = Object.create(spans[1]!) as Span;
  // Through the span's rare parts, which the encoder reads (not the `references` getter: see `Span`).
  Object.defineProperty(broken, '_rare', { value: { logs: null, extras: null, references: [{ referencedContext: () => { throw new Error('bad reference'); }, type: () => 'x' }] } });
  t.throws(() => encoder.append(broken), /bad reference/);
  encoder.append(spans[2]!);
  t.equal(encoder.openCount, 2);
  const expected = new OtlpProtobufEncoder().encode([spans[0]!, spans[2]!].map((s) => mapSpan(s, { exportBaggage: false })), resource);
  t.ok(encoder.seal().bytes.equals(expected), 'only the two good spans, intact');
});

t.test('ids made here are exported from their bytes: the official decoder reads the ids that propagation later writes as hex', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  const spans: Span[] = [];
  // Enough spans to cross several 4 KB blocks of random bytes.
  for (let i = 0; i < 400; i++) {
    const server = tracer.startSpan('GET /');
    const client = tracer.startSpan('GET', { childOf: server });
    client.finish();
    server.finish();
    spans.push(client, server);
  }
  const encoder = new OtlpBatchEncoder(encodeEnvelope(buildResource({ 'service.name': 'shop' })), false);
  for (const s of spans) encoder.append(s);
  const sealed = encoder.seal().bytes;
  const unmade = spans.filter((s) => (s.context() as unknown as { _traceHex: string })._traceHex !== '');
  t.equal(unmade.length, 0, 'encoding made no hex');
  const decoded = Request.toObject(Request.decode(sealed), { bytes: String }).resourceSpans[0].scopeSpans[0].spans;
  const hexOf = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
  t.equal(decoded.length, spans.length);
  let same = 0;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    const headers: Record<string, string> = {};
    tracer.inject(span, 'http_headers', headers);
    const [, traceId, spanId] = headers.traceparent!.split('-');
    const d = decoded[i];
    if (hexOf(d.traceId) === traceId && hexOf(d.spanId) === spanId && hexOf(d.parentSpanId ?? '') === span.parentSpanId) same++;
  }
  t.equal(same, spans.length, 'every exported trace, span and parent id is the one injected and read back as hex');
  t.ok(spans.every((s) => /^[0-9a-f]{32}$/.test(s.context().traceId) && s.context().traceId !== '0'.repeat(32)), 'valid trace ids');
  t.equal(new Set(spans.map((s) => s.context().spanId)).size, spans.length, 'distinct span ids');
});

t.test('a ratio sampler still decides from the new trace id', async (t) => {
  const { TraceIdRatioSampler, traceIdBucket } = await import('../../../src/sampling/ratio.js');
  const seen: string[] = [];
  class Recording extends TraceIdRatioSampler {
    override shouldSample(parent: unknown, traceId: string): boolean {
      seen.push(traceId);
      return super.shouldSample(parent, traceId);
    }
  }
  const tracer = new Tracer({ sampler: new Recording(0.5) });
  let agree = 0;
  for (let i = 0; i < 200; i++) {
    const span = tracer.startSpan('op');
    if (seen[i] === span.context().traceId && span.isRecording() === traceIdBucket(seen[i]!) < 0.5 * 2 ** 52) agree++;
  }
  t.equal(agree, 200, 'the sampler got each span\'s own trace id, and the decision follows it');
});

t.test('the one-pass attribute paths give the general encoder\'s bytes at every edge, and the official decoder reads the values back', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  const edges: Record<string, string | number | boolean> = {
    '': '',
    'empty.value': '',
    ['k'.repeat(59)]: 'v'.repeat(62), // key + value = 121: the longest one-pass pair
    ['k'.repeat(60)]: 'v'.repeat(62), // 122: one byte too long, general path
    ['k'.repeat(128)]: 'long key',
    'long.value': 'x'.repeat(100_000),
    'ascii.then.accent': 'abcdé',
    'é.key': 'ascii value',
    'emoji': 'trace 🚀',
    'lone.high.surrogate': 'a\ud800b',
    'lone.low.surrogate': '\udc00',
    'del.char': '\u007f',
    'latin1.char': '\u0080',
    'int.zero': 0,
    'int.127': 127,
    'int.128': 128,
    'int.max31': 0x7fffffff,
    'int.2^31': 0x80000000,
    'int.negative': -1,
    'int.negative.zero': -0,
    'int.large': 2 ** 53 - 1,
    'double': 1.5,
    'nan': NaN,
    'infinity': Infinity,
    'bool': false,
    ['k'.repeat(112)]: 0x7fffffff, // the longest key of the one-pass int path
    ['k'.repeat(113)]: 0x7fffffff,
  };
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  const span = tracer.startSpan('edges', { tags: edges });
  span.finish();
  const spans = [...memory.getFinishedSpans()];
  const resource = buildResource({ 'service.name': 'shop' });
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  encoder.append(spans[0]!);
  const bytes = encoder.seal().bytes;
  t.ok(bytes.equals(new OtlpProtobufEncoder().encode([mapSpan(spans[0]!, { exportBaggage: false })], resource)), 'identical bytes');
  const decoded = Request.toObject(Request.decode(bytes), { longs: Number, defaults: false }).resourceSpans[0].scopeSpans[0].spans[0];
  const values = new Map<string, unknown>(decoded.attributes.map((a: { key?: string; value: Record<string, unknown> }) => [a.key ?? '', Object.values(a.value)[0] ?? '']));
  for (const [key, value] of Object.entries(edges)) {
    const expected = typeof value === 'string' ? Buffer.from(value, 'utf8').toString('utf8') : Object.is(value, -0) ? 0 : value;
    if (typeof value === 'number' && !Number.isFinite(value)) t.ok(Number.isNaN(value) ? Number.isNaN(values.get(key)) : values.get(key) === value, `${key.slice(0, 20)}: ${value}`);
    else t.same(values.get(key), expected, `${key.slice(0, 20) || '(empty key)'} read back`);
  }
});

t.test('tags equal to the previous span\'s are repeated from its bytes: the same bytes whatever repeats, changes, moves or fails', async (t) => {
  const memory = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: memory });
  const url = ['http://shop.local', '/orders'].join('');
  const sameUrl = ['http://shop.local/', 'orders'].join(''); // equal, another string object
  const serve = (tags: Record<string, string | number | boolean>): void => {
    const span = tracer.startSpan('GET', { tags: { [Tags.SPAN_KIND]: 'server', ...tags } });
    span.finish();
  };
  const base = { 'http.method': 'GET', 'http.url': url, 'peer.ipv4': '127.0.0.1', 'peer.port': 40_000, 'http.status_code': 200 };
  for (let i = 0; i < 6; i++) serve(base); // every tag repeats
  serve({ ...base, 'http.url': sameUrl }); // equal value, new string
  serve({ ...base, 'peer.port': 40_007 }); // one in the middle changes
  serve({ ...base, 'http.method': 'POST' }); // the first changes: the rest repeat from two places
  serve({ ...base, 'peer.ipv4': '10.0.0.1', 'peer.port': 40_008 }); // a string in the middle changes, a port after it
  serve({ 'http.method': 'POST', 'http.url': url }); // the latest span's first tags, fewer of them
  serve({ ...base, 'http.method': 'POST' }); // more tags than the latest span
  // An integer that changes within its varint width is written over the copied bytes; across widths it is
  // encoded again. Ports of connections in turn, then every width edge, then values outside [0, 2^31).
  for (const port of [40_001, 52_113, 40_001, 16_383, 16_384, 2_097_151, 2_097_152, 0x7fffffff, 268_435_455, 127, 128, 0, 1, 0x80000000, -1, 3.5, 4, -0, 7, '7', 7]) {
    serve({ ...base, 'peer.port': port as number });
  }
  serve({ 'http.method': 'GET', 'peer.port': 40_000, 'http.status_code': 200 });
  serve({ 'http.method': 'GET', 'peer.port': 40_001, 'http.status_code': 201 }); // two integers change in one run
  serve({ 'http.method': 'PUT', 'peer.port': 40_002, 'http.status_code': 202 });
  serve({ 'é.port': 40_000, 'ü.status': 200 }); // non-ASCII keys: the general encoder wrote them
  serve({ 'é.port': 40_123, 'ü.status': 201 });
  serve({ 'http.url': url, 'http.method': 'GET', 'peer.ipv4': '127.0.0.1' }); // same keys, other order
  serve({ ...base, 'http.url': 'https://shop.local/é', extra: 'x'.repeat(300) }); // non-ASCII, a long tag
  serve({ ...base, 'http.url': 'https://shop.local/é', extra: 'x'.repeat(300) });
  serve({ ...base, ok: true, ratio: 0.5, big: 2 ** 40, neg: -1, zero: 0 });
  serve({ ...base, ok: true, ratio: 0.5, big: 2 ** 40, neg: -1, zero: -0 });
  serve({ ...base, ok: false, ratio: NaN, big: 2 ** 40, neg: -1, zero: 0 });
  serve({ ...base, ok: false, ratio: NaN, big: 2 ** 40, neg: -1, zero: 0 });
  const many: Record<string, string> = {};
  for (let k = 0; k < 12; k++) many[`tag.${k}`] = `value ${k}`; // more tags than the memo keeps
  serve(many);
  serve(many);
  serve({ ...many, 'tag.3': 'changed' });
  serve({});
  serve(base);
  serve(base);
  // Spans under 128 bytes and from 16 KiB: their content moves when their length is written.
  for (let i = 0; i < 3; i++) serve({ a: 'b', n: 1 });
  for (let i = 0; i < 3; i++) serve({ a: 'b', big: 'y'.repeat(20_000), n: 1 });
  serve(base);
  serve(base);
  const spans = [...memory.getFinishedSpans()];
  const resource = buildResource({ 'service.name': 'shop' });
  const expected = (list: Span[]): Buffer => new OtlpProtobufEncoder().encode(list.map((s) => mapSpan(s, { exportBaggage: false })), resource);
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  for (const s of spans) encoder.append(s);
  t.ok(encoder.seal().bytes.equals(expected(spans)), 'identical bytes in one batch');

  // Across batches: the first span of a new batch cannot repeat bytes of the sealed one.
  for (const s of spans.slice(0, 3)) encoder.append(s);
  const first = encoder.seal();
  t.ok(first.bytes.equals(expected(spans.slice(0, 3))), 'identical bytes in a batch of three');
  first.release?.();
  for (const s of spans.slice(3, 8)) encoder.append(s);
  t.ok(encoder.seal().bytes.equals(expected(spans.slice(3, 8))), 'identical bytes in a batch after a sealed one (its buffer reused)');

  // A span that fails half-way is taken back; the next ones do not repeat its bytes.
  encoder.append(spans[0]!);
  const broken = Object.create(spans[1]!) as Span;
  // Through the span's rare parts, which the encoder reads (not the `references` getter: see `Span`).
  Object.defineProperty(broken, '_rare', { value: { logs: null, extras: null, references: [{ referencedContext: () => { throw new Error('bad reference'); }, type: () => 'x' }] } });
  t.throws(() => encoder.append(broken), /bad reference/);
  for (const s of spans.slice(2, 6)) encoder.append(s);
  t.ok(encoder.seal().bytes.equals(expected([spans[0]!, ...spans.slice(2, 6)])), 'identical bytes after a failed span');
});
