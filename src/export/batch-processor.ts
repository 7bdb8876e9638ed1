import type { Span } from '../api/span.js';
import { describeError, log } from '../util/log.js';
import { DropReporter } from './drop-reporter.js';
import type { SpanExporter, SpanProcessor } from './span-processor.js';

/** Bounds and timing of a `BatchSpanProcessor`. */
export interface BatchOptions {
  /** Spans held at most; more are dropped and counted. Default 2048. */
  maxQueueSize?: number;
  /** Spans per export at most. Default 512. */
  maxExportBatchSize?: number;
  /** How long a span may wait before its batch is sent (ms). Default 1000. */
  scheduledDelayMs?: number;
}

/**
 * Queues finished spans and hands them to the exporter in batches, off the request path.
 * Memory is bounded: at most `maxQueueSize` spans queued plus one batch in flight; the rest are
 * dropped and counted. One export runs at a time, so a slow backend slows exporting, not the app.
 * The timer is unref'd: a queued span never keeps the process alive.
 */
export class BatchSpanProcessor implements SpanProcessor {
  private queue: Span[] = [];
  private inFlight: Promise<void> | null = null;
  private inFlightSize = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly maxQueueSize: number;
  private readonly maxBatch: number;
  private readonly delayMs: number;
  /** Shared with the exporter when it has one, so the pipeline warns in one line. */
  private readonly drops: DropReporter;
  private ownDrops = 0;
  private readonly sendNow = (): void => this.exportNext();

  constructor(private readonly exporter: SpanExporter, options: BatchOptions = {}) {
    this.maxQueueSize = atLeastOne(options.maxQueueSize, 2048);
    this.maxBatch = Math.min(this.maxQueueSize, atLeastOne(options.maxExportBatchSize, 512));
    this.delayMs = typeof options.scheduledDelayMs === 'number' && options.scheduledDelayMs >= 0 ? options.scheduledDelayMs : 1000;
    this.drops = exporter.drops ?? new DropReporter('span queue');
  }

  /** Spans dropped because the queue was full or the exporter threw (the exporter counts its own). */
  get droppedSpans(): number {
    return this.ownDrops;
  }

  /** Spans held: queued plus the batch being exported. */
  pendingCount(): number {
    return this.queue.length + this.inFlightSize;
  }

  onEnd(span: Span): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueueSize) {
      const outage = this.exporter.outage?.() ?? null;
      this.ownDrops++;
      this.drops.add(1, outage === null
        ? `the queue was full (${this.maxQueueSize} spans): the exporter could not keep up`
        : `the queue was full (${this.maxQueueSize} spans) because ${outage}`);
      return;
    }
    this.queue.push(span);
    // Exactly at a full batch: spans that keep arriving while that send is pending or in flight must
    // not re-arm a timer each (afterExport schedules the next batch).
    if (this.queue.length === this.maxBatch) this.schedule(0);
    else if (this.timer === null) this.schedule(this.delayMs);
  }

  async forceFlush(exitDeadline?: number): Promise<void> {
    this.clearTimer();
    // Before waiting on the batch in flight: one waiting for its next try gets its exit try now.
    if (exitDeadline !== undefined) this.exporter.beginExit?.(exitDeadline);
    // Loop rather than drain once: spans may keep finishing while a batch is in flight.
    while (this.inFlight !== null || this.queue.length > 0) {
      if (this.inFlight === null) this.exportNext();
      const current = this.inFlight;
      if (current === null) break;
      await current;
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    this.clearTimer();
    try {
      await this.exporter.shutdown();
    } catch (err) {
      log.debug(`exporter shutdown failed: ${describeError(err)}`);
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null) {
      if (delayMs !== 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(this.sendNow, delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private exportNext(): void {
    this.timer = null;
    if (this.inFlight !== null || this.queue.length === 0) return;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    // Only the count outlives this call: the spans can be collected once the exporter has encoded
    // them, instead of surviving (and being promoted by the GC) for the whole network round trip.
    const size = batch.length;
    this.inFlightSize = size;
    let exported: Promise<void>;
    try {
      exported = this.exporter.export(batch);
    } catch (err) {
      exported = Promise.reject(err);
    }
    this.inFlight = exported.then(
      () => this.afterExport(),
      (err: unknown) => {
        this.ownDrops += size;
        this.drops.add(size, `exporter failed: ${describeError(err)}`);
        this.afterExport();
      },
    );
  }

  private afterExport(): void {
    this.inFlight = null;
    this.inFlightSize = 0;
    if (this.stopped) return;
    if (this.queue.length >= this.maxBatch) this.schedule(0);
    else if (this.queue.length > 0 && this.timer === null) this.schedule(this.delayMs);
  }
}

function atLeastOne(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
