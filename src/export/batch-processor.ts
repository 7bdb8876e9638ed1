import type { AsyncResource } from 'node:async_hooks';
import type { Span } from '../api/span.js';
import { contextStorage, detachedResource } from '../scope/async-local.js';
import { describeError, log } from '../util/log.js';
import { DropReporter } from './drop-reporter.js';
import type { EncodedBatch, SpanExporter } from './span-processor.js';
import type { SpanProcessor } from '../api/span-processor.js';

/** Bounds and timing of a `BatchSpanProcessor`. */
export interface BatchOptions {
  /** Spans held at most; more are dropped and counted. Default 2048. */
  maxQueueSize?: number;
  /** Spans per export at most. Default 512. */
  maxExportBatchSize?: number;
  /** How long a span may wait before its batch is sent (ms). Default 1000. */
  scheduledDelayMs?: number;
}

/** Encodes each item as it arrives into the open batch (see `SpanBatchEncoder`). */
export interface BatchEncoder<T> {
  /** Items in the open batch. */
  readonly openCount: number;
  /** Encodes `item` into the open batch; when it throws, the open batch is as it was. */
  append(item: T): void;
  /** Closes the open batch (a new one begins) and returns it. */
  seal(): EncodedBatch;
}

/** What a `BatchProcessor` hands its batches to. */
export interface BatchExporter<T> {
  /** Resolves when the batch is delivered or given up on; must not reject. */
  export(items: readonly T[]): Promise<void>;
  shutdown(): Promise<void>;
  /** The process is ending: from now on, one try per batch that ends by `deadline` (`Date.now()` time). */
  beginExit?(deadline: number): void;
  /** Why the backend is not being reached right now, or null; makes queue-full warnings say why. */
  outage?(): string | null;
  /** The exporter's drop counter, which the processor in front of it reports its own drops to. */
  readonly drops?: DropReporter;
  /** An encoder for `exportEncoded`, or null when this exporter takes items only through `export`. */
  createEncoder?(): BatchEncoder<T> | null;
  /** Sends a batch made by this exporter's encoder; same contract as `export`. */
  exportEncoded?(batch: EncodedBatch): Promise<void>;
}

/**
 * Queues finished spans (or log records) and hands them to the exporter in batches, off the request path.
 * Memory is bounded: at most `maxQueueSize` spans queued plus one batch in flight; the rest are
 * dropped and counted. One export runs at a time, so a slow backend slows exporting, not the app.
 * The timer is unref'd: a queued span never keeps the process alive.
 *
 * With an exporter that has an encoder (OTLP/protobuf), finished spans are encoded into the open batch
 * a few at a time (`encodeGroup`) and only bytes are queued; with any other, the spans themselves are.
 */
export class BatchProcessor<T> {
  /** Items waiting, for exporters without an encoder. */
  private queue: T[] = [];
  private readonly encoder: BatchEncoder<T> | null;
  /**
   * Finished items not encoded yet, for exporters with an encoder (see `encodeGroup`): the first
   * `grouped` slots. A new array per group, made by the group's first item: the processor lives in the
   * old generation, and each young span stored in an array of its own (old too) was a call of V8's
   * write barrier (`RecordWrite`) per span; stored in an array as young as the spans, it is not.
   */
  private group: (T | null)[] = NO_GROUP;
  private grouped = 0;
  /** Full batches waiting, for exporters with an encoder; the open one is in the encoder. */
  private sealed: EncodedBatch[] = [];
  private sealedCount = 0;
  private inFlight: Promise<void> | null = null;
  private inFlightSize = 0;
  /**
   * The batch timer: one `Timeout` for the processor's life, re-armed with `refresh()` when a batch
   * opens, rather than a new one per batch. A timer made per batch lived the ~170 ms a batch takes to
   * fill at 3,000 spans a second, so each one outlived two scavenges and was promoted (with, on Node 20,
   * the store of the request whose span opened the batch): the fixed-rate server's survivors
   * (docs/performance.md, round seventeen). `clearTimeout` would leave it unable to be refreshed, so a
   * batch sent early (full) only disarms it: `timerArmed` says whether its firing is due.
   */
  private timer: NodeJS.Timeout | null = null;
  private timerArmed = false;
  /**
   * A send due now (a full batch, or more waiting after one): an immediate, not `setTimeout(0)`,
   * which waits at least a millisecond, so a backlog drains one batch per round trip rather than per
   * round trip plus a timer tick (and the encoder gets each body's buffer back sooner).
   */
  private soon: NodeJS.Immediate | null = null;
  /**
   * Where the timer and immediates are made and a flush's send starts: outside any request's store.
   * They are made in `onEnd`, inside the request whose span opened or filled a batch, and a timer or
   * socket keeps the context it was made in: the one timer held the first request's scope for the
   * process's life, and each send (its post, socket and retries) held the scope of the request that
   * filled its batch until the answer came, running its callbacks in that trace. One resource for the
   * processor's life: no closure per batch, and `onEnd` pays for it only when it makes the timer (once) or
   * an immediate (a full batch).
   */
  private readonly outside: AsyncResource;
  private stopped = false;
  private readonly maxQueueSize: number;
  private readonly maxBatch: number;
  private readonly delayMs: number;
  /** Shared with the exporter when it has one, so the pipeline warns in one line. */
  private readonly drops: DropReporter;
  private ownDrops = 0;
  /** The full queue's reason, kept while the exporter's outage sentence is the same string (see `fullReason`). */
  private fullOutage: string | null = null;
  private fullText = '';
  private readonly sendNow = (): void => {
    this.soon = null;
    this.timerArmed = false;
    this.exportNext();
  };
  private readonly onTimer = (): void => {
    // Fired for a batch that went out full meanwhile (disarmed, not cleared): nothing is due.
    if (!this.timerArmed) return;
    this.timerArmed = false;
    this.exportNext();
  };
  /** The export's settlements, made once: not two closures per batch. */
  private readonly exportDone = (): void => this.afterExport();
  private readonly exportFailed = (err: unknown): void => {
    this.dropped(this.inFlightSize, `exporter failed: ${describeError(err)}`);
    this.afterExport();
  };

  /** `what` names the items in drop reports (`span`, `log record`). */
  constructor(private readonly exporter: BatchExporter<T>, options: BatchOptions = {}, private readonly what = 'span') {
    this.maxQueueSize = atLeastOne(options.maxQueueSize, 2048);
    this.maxBatch = Math.min(this.maxQueueSize, atLeastOne(options.maxExportBatchSize, 512));
    this.delayMs = typeof options.scheduledDelayMs === 'number' && options.scheduledDelayMs >= 0 ? options.scheduledDelayMs : 1000;
    this.drops = exporter.drops ?? new DropReporter(`${what} queue`, undefined, undefined, what);
    this.encoder = typeof exporter.exportEncoded === 'function' ? exporter.createEncoder?.() ?? null : null;
    this.outside = detachedResource(`${what} export`);
  }

  /** Items dropped because the queue was full or the exporter threw (the exporter counts its own). */
  get droppedSpans(): number {
    return this.ownDrops;
  }

  /** Spans held: queued plus the batch being exported. */
  pendingCount(): number {
    return this.queued() + this.inFlightSize;
  }

  onEnd(item: T): void {
    if (this.stopped) return;
    const encoder = this.encoder;
    // `queued()` written out: on Node 24 a helper called per span is one more Maglev job when the load
    // starts (docs/performance.md, round sixteen).
    if ((encoder === null ? this.queue.length : this.sealedCount + encoder.openCount + this.grouped) >= this.maxQueueSize) {
      this.dropped(1, this.fullReason());
      return;
    }
    let waiting: number;
    if (encoder !== null) {
      const grouped = this.grouped + 1;
      if (grouped === 1) this.group = [item, null, null, null, null, null, null, null];
      else this.group[grouped - 1] = item;
      this.grouped = grouped;
      // The open batch's items, encoded or not.
      waiting = encoder.openCount + grouped;
      if (grouped >= ENCODE_GROUP || waiting >= this.maxBatch) this.encodeGroup();
    } else {
      this.queue.push(item);
      waiting = this.queue.length;
    }
    // Exactly at a full batch: spans that keep arriving while that send is pending or in flight must
    // not re-arm a timer each (afterExport schedules the next batch).
    if (waiting === this.maxBatch) this.schedule(0);
    else if (!this.timerArmed) this.schedule(this.delayMs);
  }

  /**
   * Encodes the waiting group into the open batch, sealing a batch that fills. A server at a fixed rate
   * finishes about one span per turn of the loop, and between two turns the app's and Node's work evicts
   * the encoder's machine code (~200 cache lines) from the CPU's caches, so each span fetched it again:
   * eight at a time, it is fetched once per eight (benchmarks/micro/cache-misses.mjs). Finished spans do
   * not change (a finished span ignores its setters), so encoding one later writes the same bytes.
   */
  private encodeGroup(): void {
    const encoder = this.encoder!;
    const group = this.group;
    const grouped = this.grouped;
    // The array goes with its items: no span is kept once encoded.
    this.group = NO_GROUP;
    this.grouped = 0;
    for (let i = 0; i < grouped; i++) {
      const item = group[i]!;
      try {
        encoder.append(item);
      } catch (err) {
        this.dropped(1, `could not encode the ${this.what}: ${describeError(err)}`);
        continue;
      }
      if (encoder.openCount >= this.maxBatch) {
        const batch = encoder.seal();
        this.sealed.push(batch);
        this.sealedCount += batch.count;
      }
    }
  }

  async forceFlush(exitDeadline?: number): Promise<void> {
    this.clearTimer();
    // Before waiting on the batch in flight: one waiting for its next try gets its exit try now.
    if (exitDeadline !== undefined) this.exporter.beginExit?.(exitDeadline);
    // Loop rather than drain once: spans may keep finishing while a batch is in flight.
    while (this.inFlight !== null || this.queued() > 0) {
      // A flush may be asked for inside a request (the app's own `forceFlush`): its send starts outside it.
      if (this.inFlight === null) {
        if (contextStorage.getStore() === undefined) this.exportNext();
        else this.outside.runInAsyncScope(this.exportNext, this);
      }
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

  private queued(): number {
    return this.encoder === null ? this.queue.length : this.sealedCount + this.encoder.openCount + this.grouped;
  }

  /**
   * Why a full queue drops a span. Made again only when the exporter's outage sentence changes: at
   * the bound every span that finishes is dropped (thousands a second while the collector is down), and
   * a sentence built per span was garbage and string work for nothing.
   */
  private fullReason(): string {
    const outage = this.exporter.outage?.() ?? null;
    if (this.fullText === '' || outage !== this.fullOutage) {
      this.fullOutage = outage;
      this.fullText = outage === null
        ? `the queue was full (${this.maxQueueSize} ${this.what}s): the exporter could not keep up`
        : `the queue was full (${this.maxQueueSize} ${this.what}s) because ${outage}`;
    }
    return this.fullText;
  }

  private dropped(count: number, reason: string): void {
    this.ownDrops += count;
    this.drops.add(count, reason);
  }

  private schedule(delayMs: number): void {
    if (this.soon !== null) return;
    if (delayMs === 0) {
      this.timerArmed = false;
      // Outside any store already (a batch filled by spans finished outside requests, or in a send's answer):
      // nothing to leave, and the resource switch (~2 k instructions) is saved.
      this.soon = contextStorage.getStore() === undefined ? setImmediate(this.sendNow) : this.outside.runInAsyncScope(setImmediate, null, this.sendNow) as NodeJS.Immediate;
      this.soon.unref();
      return;
    }
    if (this.timerArmed) return;
    this.timerArmed = true;
    // `refresh()` restarts the timer from now, whether it is still pending (disarmed) or has fired.
    // (`delayMs` is always `this.delayMs` here.)
    if (this.timer !== null) this.timer.refresh();
    else {
      this.timer = this.outside.runInAsyncScope(setTimeout, null, this.onTimer, delayMs) as NodeJS.Timeout;
      this.timer.unref();
    }
  }

  private clearTimer(): void {
    this.timerArmed = false;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.soon !== null) {
      clearImmediate(this.soon);
      this.soon = null;
    }
  }

  private exportNext(): void {
    if (this.inFlight !== null) return;
    if (this.grouped > 0) this.encodeGroup();
    if (this.queued() === 0) return;
    let exported: Promise<void>;
    try {
      if (this.encoder !== null) {
        let batch: EncodedBatch;
        if (this.sealed.length > 0) {
          batch = this.sealed.shift()!;
          this.sealedCount -= batch.count;
        } else {
          batch = this.encoder.seal();
        }
        this.inFlightSize = batch.count;
        exported = this.exporter.exportEncoded!(batch);
      } else {
        const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
        this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
        // Only the count outlives this call: the spans can be collected once the exporter has encoded
        // them, instead of surviving (and being promoted by the GC) for the whole network round trip.
        this.inFlightSize = batch.length;
        exported = this.exporter.export(batch);
      }
    } catch (err) {
      exported = Promise.reject(err);
    }
    this.inFlight = exported.then(this.exportDone, this.exportFailed);
  }

  private afterExport(): void {
    this.inFlight = null;
    this.inFlightSize = 0;
    if (this.stopped) return;
    const waiting = this.queued();
    if (waiting >= this.maxBatch || this.sealed.length > 0) this.schedule(0);
    else if (waiting > 0) this.schedule(this.delayMs);
  }
}

/** The span pipeline's processor: a `BatchProcessor` of spans. */
export class BatchSpanProcessor extends BatchProcessor<Span> implements SpanProcessor {
  constructor(exporter: SpanExporter, options: BatchOptions = {}) {
    super(exporter, options, 'span');
  }
}

/** Finished items encoded together at most (see `encodeGroup`; the literal in `onEnd` has as many slots). */
const ENCODE_GROUP = 8;

/** The group while none waits: never written (the first item of a group makes a new array). */
const NO_GROUP: never[] = [];

function atLeastOne(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
