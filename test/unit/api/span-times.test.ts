import t from 'tap';
import { AlwaysOffSampler, InMemorySpanExporter, Tracer, followsFrom } from '../../../src/index.js';
import { OtlpBatchEncoder, encodeEnvelope, OtlpProtobufEncoder } from '../../../src/export/otlp-protobuf.js';
import { mapSpan } from '../../../src/export/span-model.js';

// A span's start and duration live in a slab many spans share (api/span.ts): a span a user keeps must keep
// its own times whatever spans come after it, across slabs, finished or not, sampled or not.
t.test('every span keeps its own start and duration across many later spans', async (t) => {
  const tracer = new Tracer({ processor: new InMemorySpanExporter() });
  const unsampled = new Tracer({ sampler: new AlwaysOffSampler() });
  const kept = [];
  // 3,000 spans: several slabs (512 spans each), with unsampled ones taking slots between them.
  for (let i = 0; i < 3000; i++) {
    const span = (i % 3 === 2 ? unsampled : tracer).startSpan(`op${i}`, { startTime: 1_700_000_000_000 + i + 0.25 });
    if (i % 2 === 0) span.finish(1_700_000_000_000 + 2 * i + 0.75);
    kept.push(span);
  }
  let wrong = 0;
  for (let i = 0; i < kept.length; i++) {
    const span = kept[i]!;
    const recording = i % 3 !== 2;
    if (span.startTime !== 1_700_000_000_000 + i + 0.25) wrong++;
    const finished = i % 2 === 0;
    if (span.isFinished() !== finished) wrong++;
    // An unsampled span records no duration: 0 once finished.
    const duration = !finished ? -1 : recording ? i + 0.5 : 0;
    if (span.duration !== duration) wrong++;
  }
  t.equal(wrong, 0, 'start, finished state and duration of each span as set');
  // Finishing late spans changes none of the earlier ones.
  for (const span of kept) span.finish(2_000_000_000_000);
  t.equal(kept[0]!.duration, 0.5);
  t.equal(kept[1]!.duration, 2_000_000_000_000 - (1_700_000_000_000 + 1.25));
  t.equal(kept[2]!.duration, 0, 'an unsampled span finishes with duration 0');
});

t.test('a span started now and finished now reads the clock for both', async (t) => {
  const tracer = new Tracer({ processor: new InMemorySpanExporter() });
  const before = Date.now();
  const span = tracer.startSpan('now');
  t.equal(span.duration, -1, 'not finished: -1');
  t.ok(Math.abs(span.startTime - before) < 1000, 'start near the wall clock');
  span.finish();
  t.ok(span.duration >= 0 && span.duration < 1000, 'a small, non-negative duration');
  const early = tracer.startSpan('early', { startTime: span.startTime + 10_000 });
  early.finish();
  t.equal(early.duration, 0, 'a finish before the start reads 0');
});

t.test('the encoder writes each span its own times (batch and one-shot agree)', async (t) => {
  const tracer = new Tracer({ processor: new InMemorySpanExporter() });
  const spans = [];
  for (let i = 0; i < 1100; i++) {
    const span = tracer.startSpan('op', { startTime: 1_700_000_000_000 + i * 1.5 });
    span.finish(1_700_000_000_000 + i * 1.5 + i / 8);
    spans.push(span);
  }
  const envelope = encodeEnvelope([{ key: 'service.name', value: 'times' }]);
  const batch = new OtlpBatchEncoder(envelope, false);
  for (const s of spans) batch.append(s);
  const bytes = batch.seal().bytes;
  const oneShot = new OtlpProtobufEncoder().encode(spans.map((s) => mapSpan(s, { exportBaggage: false })), [{ key: 'service.name', value: 'times' }]);
  t.ok(Buffer.compare(Buffer.from(bytes), oneShot) === 0, 'the same bytes');
  const mapped = mapSpan(spans[1099]!, { exportBaggage: false });
  t.equal(mapped.startMs, 1_700_000_000_000 + 1099 * 1.5);
  t.equal(mapped.durationMs, 1099 / 8);
});

t.test('references, logs and the rare parts stay readable on a kept span', async (t) => {
  const tracer = new Tracer({ processor: new InMemorySpanExporter() });
  const parent = tracer.startSpan('parent');
  const plain = tracer.startSpan('plain');
  t.equal(plain.references, null, 'no references: null');
  t.same(plain.logs, [], 'no logs: empty');
  const linked = tracer.startSpan('linked', { references: [followsFrom(parent.context())] });
  t.equal(linked.references!.length, 1);
  linked.log({ event: 'x', n: 1 }, 5);
  linked.finish(10);
  linked.log({ event: 'late' });
  t.same(linked.logs.map((l) => l.fields.event), ['x'], 'a log after finish is ignored');
  t.equal(linked.references![0]!.referencedContext(), parent.context());
  t.equal(mapSpan(linked, { exportBaggage: false }).links.length, 1);
});
