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

/** What a `BatchProcessor` hands its batches to. */
export interface BatchExporter<T> {
  /** Resolves when the batch is delivered or given up on; must not reject. */
  export(items: readonly T[]): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Queues finished spans (or log records) and hands them to the exporter in batches, off the request path.
 * Memory is bounded: at most `maxQueueSize` spans queued plus one batch in flight; the rest are
 * dropped and counted. One export runs at a time, so a slow backend slows exporting, not the app.
 * The timer is unref'd: a queued span never keeps the process alive.
 */
export class BatchProcessor<T> {
  private queue: T[] = [];
  private inFlight: Promise<void> | null = null;
  private inFlightSize = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly maxQueueSize: number;
  private readonly maxBatch: number;
  private readonly delayMs: number;
  private readonly drops: DropReporter;
  private readonly sendNow = (): void => this.exportNext();

  /** `what` names the items in drop reports (`span`, `log record`). */
  constructor(private readonly exporter: BatchExporter<T>, options: BatchOptions = {}, private readonly what = 'span') {
    this.maxQueueSize = atLeastOne(options.maxQueueSize, 2048);
    this.maxBatch = Math.min(this.maxQueueSize, atLeastOne(options.maxExportBatchSize, 512));
    this.delayMs = typeof options.scheduledDelayMs === 'number' && options.scheduledDelayMs >= 0 ? options.scheduledDelayMs : 1000;
    this.drops = new DropReporter(`${what} queue`);
  }

  /** Spans dropped because the queue was full (or arrived after shutdown). */
  get droppedSpans(): number {
    return this.drops.dropped;
  }

  /** Spans held: queued plus the batch being exported. */
  pendingCount(): number {
    return this.queue.length + this.inFlightSize;
  }

  onEnd(item: T): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueueSize) {
      this.drops.add(1, `the queue is full (${this.maxQueueSize} ${this.what}s); the exporter cannot keep up`);
      return;
    }
    this.queue.push(item);
    // Exactly at a full batch: spans that keep arriving while that send is pending or in flight must
    // not re-arm a timer each (afterExport schedules the next batch).
    if (this.queue.length === this.maxBatch) this.schedule(0);
    else if (this.timer === null) this.schedule(this.delayMs);
  }

  async forceFlush(): Promise<void> {
    this.clearTimer();
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

/** The span pipeline's processor: a `BatchProcessor` of spans. */
export class BatchSpanProcessor extends BatchProcessor<Span> implements SpanProcessor {
  constructor(exporter: SpanExporter, options: BatchOptions = {}) {
    super(exporter, options, 'span');
  }
}

function atLeastOne(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
