import type { Span } from '../api/span.js';
import type { SpanProcessor } from '../api/span-processor.js';
import type { DropReporter } from './drop-reporter.js';

export type { SpanProcessor } from '../api/span-processor.js';

/** A batch already encoded by the exporter that will send it: the whole request body. */
export interface EncodedBatch {
  readonly count: number;
  readonly bytes: Buffer;
  /**
   * Bytes just before `bytes` in the same memory that belong to the batch too (0 when none): a
   * transport may write its framing there (the gRPC message prefix) instead of copying the body.
   */
  readonly headroom?: number;
  /**
   * Gives the memory of `bytes` (and its headroom) back to the encoder for a later batch. Call it
   * only once nothing reads it any more, the transport included; a batch never released is simply
   * left to the GC.
   */
  readonly release?: () => void;
}

/**
 * Encodes each span as it finishes into the open batch, so a finished span is garbage at once
 * instead of an object graph that waits (and gets promoted by the GC) until its batch is sent.
 */
export interface SpanBatchEncoder {
  /** Spans in the open batch. */
  readonly openCount: number;
  /** Encodes `span` into the open batch; when it throws, the open batch is as it was. */
  append(span: Span): void;
  /** Closes the open batch (a new one begins) and returns it. */
  seal(): EncodedBatch;
}

/** Sends a batch of finished spans somewhere. */
export interface SpanExporter {
  /** Resolves when the batch is delivered or given up on; must not reject. */
  export(spans: readonly Span[]): Promise<void>;
  shutdown(): Promise<void>;
  /** The process is ending: from now on, one try per batch that ends by `deadline` (`Date.now()` time). */
  beginExit?(deadline: number): void;
  /** Why the backend is not being reached right now, or null; makes queue-full warnings say why. */
  outage?(): string | null;
  /** The exporter's drop counter, which a processor in front of it reports its own drops to. */
  readonly drops?: DropReporter;
  /** An encoder for `exportEncoded`, or null when this exporter takes spans only through `export`. */
  createEncoder?(): SpanBatchEncoder | null;
  /** Sends a batch made by this exporter's encoder; same contract as `export`. */
  exportEncoded?(batch: EncodedBatch): Promise<void>;
}

/** Hands each span to the exporter as it finishes; for tests and the console, not for production load. */
export class SimpleSpanProcessor implements SpanProcessor {
  private pending = new Set<Promise<void>>();
  private stopped = false;
  constructor(private readonly exporter: SpanExporter) {}

  onEnd(span: Span): void {
    if (this.stopped) return;
    const p = this.exporter.export([span]).catch(() => undefined);
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }

  async forceFlush(exitDeadline?: number): Promise<void> {
    if (exitDeadline !== undefined) this.exporter.beginExit?.(exitDeadline);
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.forceFlush();
    await this.exporter.shutdown().catch(() => undefined);
  }

  pendingCount(): number {
    return this.pending.size;
  }
}

/** Several processors as one. */
export class MultiSpanProcessor implements SpanProcessor {
  constructor(private readonly processors: readonly SpanProcessor[]) {}
  onEnd(span: Span): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(exitDeadline?: number): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush(exitDeadline)));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
  pendingCount(): number {
    let n = 0;
    for (const p of this.processors) n += p.pendingCount?.() ?? 0;
    return n;
  }
}

/** Drops everything; the default when no exporter is configured. */
export class NoopSpanProcessor implements SpanProcessor {
  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
  // Nothing is ever pending: the exit hook then has nothing to flush, and sets no keep-alive timer (a
  // process's first timer compiles Node's timer code) nor runs the loop one more turn for it.
  pendingCount(): number {
    return 0;
  }
}
