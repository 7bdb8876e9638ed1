import t from 'tap';
import { Tracer, type Span } from '../../../src/index.js';
import { BatchSpanProcessor } from '../../../src/export/batch-processor.js';
import type { EncodedBatch, SpanBatchEncoder, SpanExporter } from '../../../src/export/span-processor.js';
import { DropReporter } from '../../../src/export/drop-reporter.js';

/** An exporter that records batches and can be held to simulate a slow backend. */
class RecordingExporter implements SpanExporter {
  batches: string[][] = [];
  active = 0;
  maxActive = 0;
  hold: Promise<void> | null = null;
  shutdowns = 0;
  async export(spans: readonly Span[]): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.batches.push(spans.map((s) => s.operationName));
    if (this.hold !== null) await this.hold;
    this.active--;
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

function tracerWith(processor: BatchSpanProcessor): Tracer {
  return new Tracer({ processor });
}

t.test('spans wait for the scheduled delay, then go out as one batch', async (t) => {
  const exporter = new RecordingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 30 });
  const tracer = tracerWith(processor);
  for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`).finish();
  t.same(exporter.batches, [], 'nothing is exported on the request path');
  await new Promise((r) => setTimeout(r, 80));
  t.same(exporter.batches, [['s0', 's1', 's2']]);
});

t.test('a full batch is sent without waiting for the delay, in batches of at most maxExportBatchSize', async (t) => {
  const exporter = new RecordingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000, maxExportBatchSize: 4 });
  const tracer = tracerWith(processor);
  for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`).finish();
  // A few timer turns, however busy the machine (a fixed 30 ms was sometimes too short here); the
  // scheduled delay is a minute, so anything sent by then was sent for being a full batch.
  for (let waited = 0; exporter.batches.length < 2 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
  t.same(exporter.batches.map((b) => b.length), [4, 4], 'full batches went out at once; the rest waits');
  await processor.forceFlush();
  t.same(exporter.batches.flat(), Array.from({ length: 10 }, (_, i) => `s${i}`), 'every span exactly once, in order');
});

t.test('the queue is bounded: overflow is dropped and counted, one export at a time', async (t) => {
  const exporter = new RecordingExporter();
  let release!: () => void;
  exporter.hold = new Promise((r) => (release = r));
  const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 10, maxExportBatchSize: 5, scheduledDelayMs: 0 });
  const tracer = tracerWith(processor);
  tracer.startSpan('first').finish();
  await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 100; i++) tracer.startSpan(`s${i}`).finish();
  t.equal(processor.pendingCount(), 11, 'ten queued plus the one in flight');
  t.equal(processor.droppedSpans, 90);
  release();
  exporter.hold = null;
  await processor.forceFlush();
  t.equal(exporter.maxActive, 1, 'never two exports at once');
  t.equal(exporter.batches.flat().length, 11);
  t.equal(processor.pendingCount(), 0);
});

t.test('a full queue says why, following the exporter\'s outage as it changes', async (t) => {
  const reasons: string[] = [];
  class RecordingDrops extends DropReporter {
    override add(count: number, reason: string, atExit = false): void {
      reasons.push(reason);
      super.add(count, reason, atExit);
    }
  }
  const exporter = new RecordingExporter();
  let outage: string | null = 'the collector at http://c.test is not answering (connect ECONNREFUSED)';
  const down = Object.assign(exporter, { drops: new RecordingDrops('test', 60_000, () => 0), outage: () => (outage === null ? null : `${outage}`) });
  let release!: () => void;
  exporter.hold = new Promise((r) => (release = r));
  const processor = new BatchSpanProcessor(down, { maxQueueSize: 2, maxExportBatchSize: 2, scheduledDelayMs: 0 });
  const tracer = tracerWith(processor);
  tracer.startSpan('in flight').finish();
  await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 4; i++) tracer.startSpan(`a${i}`).finish();
  outage = 'the collector at http://c.test is not answering (no answer within 10 ms)';
  tracer.startSpan('b').finish();
  outage = null;
  tracer.startSpan('c').finish();
  t.same(reasons, [
    'the queue was full (2 spans) because the collector at http://c.test is not answering (connect ECONNREFUSED)',
    'the queue was full (2 spans) because the collector at http://c.test is not answering (connect ECONNREFUSED)',
    'the queue was full (2 spans) because the collector at http://c.test is not answering (no answer within 10 ms)',
    'the queue was full (2 spans): the exporter could not keep up',
  ]);
  t.equal(processor.droppedSpans, 4);
  release();
  exporter.hold = null;
  await processor.forceFlush();
});

t.test('forceFlush sends spans that finish while a batch is in flight', async (t) => {
  const exporter = new RecordingExporter();
  let release!: () => void;
  exporter.hold = new Promise((r) => (release = r));
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000 });
  const tracer = tracerWith(processor);
  tracer.startSpan('a').finish();
  const flushed = processor.forceFlush();
  tracer.startSpan('b').finish();
  setTimeout(() => {
    exporter.hold = null;
    release();
  }, 10);
  await flushed;
  t.same(exporter.batches.flat(), ['a', 'b']);
});

t.test('an exporter that throws or rejects costs the batch, never the app', async (t) => {
  const processor = new BatchSpanProcessor({
    export(): Promise<void> {
      throw new Error('encoder bug');
    },
    async shutdown() {},
  }, { scheduledDelayMs: 0 });
  const tracer = tracerWith(processor);
  t.doesNotThrow(() => tracer.startSpan('x').finish());
  await processor.forceFlush();
  t.equal(processor.droppedSpans, 1);
  t.equal(processor.pendingCount(), 0);
});

t.test('shutdown flushes, shuts the exporter down, and drops later spans', async (t) => {
  const exporter = new RecordingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000 });
  const tracer = tracerWith(processor);
  tracer.startSpan('before').finish();
  await processor.shutdown();
  tracer.startSpan('after').finish();
  await processor.forceFlush();
  t.same(exporter.batches, [['before']]);
  t.equal(exporter.shutdowns, 1);
});

t.test('the batch timer does not keep the process alive', async (t) => {
  const exporter = new RecordingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000 });
  tracerWith(processor).startSpan('x').finish();
  const timer = (processor as unknown as { timer: NodeJS.Timeout }).timer;
  t.equal(timer.hasRef(), false);
  await processor.shutdown();
});

t.test('one batch timer for the processor\'s life: a batch that went out full leaves it disarmed, and the next batch waits its whole delay', async (t) => {
  const exporter = new RecordingExporter();
  const delayMs = 300;
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: delayMs, maxExportBatchSize: 3 });
  const tracer = tracerWith(processor);
  // A first batch by the timer: its span waits the delay.
  tracer.startSpan('a0').finish();
  const timer = (processor as unknown as { timer: NodeJS.Timeout }).timer;
  for (let waited = 0; exporter.batches.length < 1 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  t.same(exporter.batches, [['a0']]);
  // A second batch opens (the timer re-armed) and goes out full at once.
  for (let i = 0; i < 3; i++) tracer.startSpan(`b${i}`).finish();
  await new Promise((r) => setImmediate(r));
  t.same(exporter.batches, [['a0'], ['b0', 'b1', 'b2']]);
  // The timer armed for the second batch is still pending; a span that opens the third batch later must
  // wait the whole delay from its own arrival, not go out when that earlier arming would have fired.
  await new Promise((r) => setTimeout(r, delayMs / 2));
  const openedAt = Date.now();
  tracer.startSpan('c0').finish();
  let sentAt = 0;
  for (let waited = 0; sentAt === 0 && waited < 5000; waited += 5) {
    await new Promise((r) => setTimeout(r, 5));
    if (exporter.batches.length === 3) sentAt = Date.now();
  }
  t.same(exporter.batches, [['a0'], ['b0', 'b1', 'b2'], ['c0']]);
  // Timers fire no earlier than asked (a few ms of clock rounding allowed); late is fine on a busy machine.
  t.ok(sentAt - openedAt >= delayMs - 5, `sent ${sentAt - openedAt} ms after the span that opened its batch`);
  t.equal((processor as unknown as { timer: NodeJS.Timeout }).timer, timer, 'the same timer, re-armed');
  t.equal(timer.hasRef(), false);
  await processor.shutdown();
});

t.test('a full batch is sent at the next turn of the loop (no timer tick), by an immediate that does not keep the process alive', async (t) => {
  const exporter = new RecordingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000, maxExportBatchSize: 3 });
  const tracer = tracerWith(processor);
  for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`).finish();
  const soon = (processor as unknown as { soon: NodeJS.Immediate }).soon;
  t.equal(soon.hasRef(), false);
  await new Promise((r) => setImmediate(r));
  t.same(exporter.batches, [['s0', 's1', 's2']], 'sent in the same check phase, before any timer');
  await processor.shutdown();
});

/** An exporter that encodes spans as they finish (as OTLP/protobuf does) and records each batch's count. */
class EncodingExporter extends RecordingExporter {
  readonly encodedBatches: number[] = [];
  /** Spans handed to the encoder, encodable or not. */
  appends = 0;
  createEncoder(): SpanBatchEncoder {
    let open: string[] = [];
    const counted = (): void => {
      this.appends++;
    };
    return {
      get openCount() {
        return open.length;
      },
      append(span: Span) {
        counted();
        if (span.operationName === 'unencodable') throw new Error('cannot encode');
        open.push(span.operationName);
      },
      seal(): EncodedBatch {
        const names = open;
        open = [];
        return { count: names.length, bytes: Buffer.from(names.join(',')) };
      },
    };
  }
  async exportEncoded(batch: EncodedBatch): Promise<void> {
    await this.hold;
    this.encodedBatches.push(batch.count);
    this.batches.push(batch.bytes.toString().split(','));
  }
}

t.test('with an encoding exporter: spans are encoded into the open batch, batched, bounded and counted the same way', async (t) => {
  const exporter = new EncodingExporter();
  let release!: () => void;
  exporter.hold = new Promise((r) => (release = r));
  const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 10, maxExportBatchSize: 4, scheduledDelayMs: 60_000 });
  const tracer = tracerWith(processor);
  for (let i = 0; i < 4; i++) tracer.startSpan(`s${i}`).finish();
  for (let waited = 0; processor.pendingCount() === 4 && exporter.encodedBatches.length === 0 && waited < 50; waited++) await new Promise((r) => setTimeout(r, 10));
  // The first full batch is in flight (held); ten more fit in the queue, the rest is dropped.
  for (let i = 4; i < 20; i++) tracer.startSpan(`s${i}`).finish();
  tracer.startSpan('unencodable').finish();
  t.equal(processor.pendingCount(), 14, 'one batch in flight plus a full queue');
  t.equal(processor.droppedSpans, 7, 'six over the bound and one that could not be encoded');
  release();
  await processor.forceFlush();
  t.same(exporter.encodedBatches, [4, 4, 4, 2], 'full batches of four, then the open one');
  t.same(exporter.batches.flat(), Array.from({ length: 14 }, (_, i) => `s${i}`), 'in order, each once');
  t.equal(processor.pendingCount(), 0);
});

t.test('with an encoding exporter: spans still waiting to be encoded go out with the scheduled batch, and a full group is encoded at once', async (t) => {
  const exporter = new EncodingExporter();
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 30, maxExportBatchSize: 512 });
  const tracer = tracerWith(processor);
  for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`).finish();
  t.equal(processor.pendingCount(), 3, 'counted while they wait');
  for (let waited = 0; exporter.batches.length === 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  t.same(exporter.batches, [['s0', 's1', 's2']], 'the timer\'s batch holds the spans not yet encoded');
  // Eight finished spans are encoded when the eighth finishes: one that cannot be encoded is counted then.
  for (let i = 0; i < 7; i++) tracer.startSpan(`g${i}`).finish();
  t.equal(processor.droppedSpans, 0);
  t.equal(exporter.appends, 3, 'the seven wait: none encoded before the eighth');
  tracer.startSpan('unencodable').finish();
  t.equal(exporter.appends, 11, 'the eighth encodes the group');
  t.equal(processor.droppedSpans, 1, 'counted as the group is encoded');
  t.equal(processor.pendingCount(), 7);
  await processor.forceFlush();
  t.same(exporter.batches[1], Array.from({ length: 7 }, (_, i) => `g${i}`), 'in order, each once');
  await processor.shutdown();
});
