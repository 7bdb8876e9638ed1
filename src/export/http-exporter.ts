import type { Span } from '../api/span.js';
import type { TagValue } from '../api/span.js';
import { guard, log } from '../util/log.js';
import { DropReporter } from './drop-reporter.js';
import { HttpSender, type HttpSenderOptions } from './http-sender.js';
import type { PayloadSender, SendResult } from './retry.js';
import { buildResource } from './resource.js';
import type { EncodedBatch, SpanExporter } from './span-processor.js';
import { mapSpan, type Attribute, type MapOptions, type MappedSpan } from './span-model.js';

/** A request head longer than this (long custom headers) is copied with the body rather than given room before each batch. */
const MAX_FRAMING_ROOM = 4096;

/** Counters of an exporter, for tests, the `config` command and debugging. */
export interface ExporterStats {
  /** Spans the backend accepted. */
  exportedSpans: number;
  /** Spans given up on after the last try (or refused with a non-retryable status). */
  droppedSpans: number;
  /** HTTP requests made, retries included. */
  requests: number;
}

/** Options shared by the OTLP (HTTP and gRPC) and Zipkin exporters. */
export interface HttpExporterOptions extends Omit<HttpSenderOptions, 'contentType'>, Partial<MapOptions> {
  /** The tracer's resource (service name, version, user tags). */
  resource?: Readonly<Record<string, TagValue>>;
}

/**
 * Maps, encodes and sends batches. Subclasses choose the wire format and, when it is not an HTTP POST
 * of the given content type, the transport; failures are counted and reported at most once a minute,
 * never thrown.
 */
export abstract class HttpSpanExporter implements SpanExporter {
  protected readonly resource: readonly Attribute[];
  private readonly mapOptions: MapOptions;
  private readonly sender: PayloadSender;
  /** Shared with the batch processor in front of it, so a pipeline warns in one line. */
  readonly drops: DropReporter;
  private readonly counters: ExporterStats = { exportedSpans: 0, droppedSpans: 0, requests: 0 };

  /** `transport`: the content type to POST with, or a sender of its own (OTLP/gRPC). */
  protected constructor(name: string, transport: string | PayloadSender, options: HttpExporterOptions) {
    this.resource = buildResource(options.resource ?? {});
    this.mapOptions = { exportBaggage: options.exportBaggage === true };
    this.sender = typeof transport === 'string' ? new HttpSender({ ...options, contentType: transport }) : transport;
    this.drops = new DropReporter(`${name} exporter (${this.sender.displayUrl})`);
    const sender = this.sender;
    this.drops.status = () => sender.outageTiming?.() ?? null;
  }

  /**
   * Room an encoder of this exporter leaves before each batch for the transport's framing (the HTTP
   * request head: then no copy of the body per batch); capped, as a user's headers could be long.
   */
  protected framingRoom(): number {
    const bytes = this.sender.framingBytes ?? 0;
    return bytes <= MAX_FRAMING_ROOM ? bytes : 0;
  }

  /** Turns mapped spans into the request body. */
  protected abstract encode(spans: readonly MappedSpan[]): Buffer;

  export(spans: readonly Span[]): Promise<void> {
    const count = spans.length;
    if (count === 0) return Promise.resolve();
    const body = guard('export encoding', () => {
      const mapped: MappedSpan[] = new Array(count);
      for (let i = 0; i < count; i++) mapped[i] = mapSpan(spans[i]!, this.mapOptions);
      return this.encode(mapped);
    }, null);
    if (body === null) {
      this.dropped(count, 'could not encode the batch');
      return Promise.resolve();
    }
    // Sent by a separate async function that never sees `spans`: a suspended async function keeps
    // its arguments alive, and the spans would then survive the whole round trip (and get promoted
    // to the old generation) instead of dying young once encoded.
    return this.send(body, count);
  }

  /** Sends a body encoded elsewhere (an encoder of the batch processor); see `export`. */
  protected sendEncoded(batch: EncodedBatch): Promise<void> {
    const count = batch.count;
    if (count === 0) {
      batch.release?.();
      return Promise.resolve();
    }
    if (batch.bytes.length === 0) {
      this.dropped(count, 'could not encode the batch');
      return Promise.resolve();
    }
    return this.send(batch.bytes, count, batch);
  }

  private send(body: Buffer, count: number, batch?: EncodedBatch): Promise<void> {
    // One `then` rather than an async function: one promise fewer per batch (docs/performance.md, round
    // seventeen). The sender never rejects.
    return this.sender.send(body, batch?.headroom ?? 0).then((result) => this.sent(result, count, batch));
  }

  private sent(result: SendResult, count: number, batch: EncodedBatch | undefined): void {
    // The body's memory goes back to the encoder for a later batch, once the transport is done with it.
    if (result.payloadFree === true) batch?.release?.();
    this.counters.requests += result.attempts;
    if (result.ok) {
      const rejected = Math.min(count, result.rejected?.spans ?? 0);
      this.counters.exportedSpans += count - rejected;
      if (result.attempts > 1) log.debug(`exported ${count - rejected} span(s) after ${result.attempts} tries`);
      // A partial success is final (retrying would not help): the rejected spans are dropped, and said so.
      if (rejected > 0) this.dropped(rejected, `the backend rejected them${result.rejected!.message === '' ? '' : `: ${result.rejected!.message}`}`);
      return;
    }
    const tries = result.attempts === 0 ? 'not tried' : `${result.attempts} ${result.attempts === 1 ? 'try' : 'tries'}`;
    this.dropped(count, `${result.reason} (${tries})`, result.atExit === true);
  }

  /** The process is ending: one bounded try per batch from now on (see `Retrier.beginExit`). */
  beginExit(deadline: number): void {
    this.sender.beginExit?.(deadline);
  }

  /** Why the collector is not being reached, or null when it is. */
  outage(): string | null {
    return this.sender.outage?.() ?? null;
  }

  stats(): Readonly<ExporterStats> {
    return { ...this.counters };
  }

  async shutdown(): Promise<void> {
    this.sender.shutdown();
  }

  private dropped(count: number, reason: string, atExit = false): void {
    this.counters.droppedSpans += count;
    this.drops.add(count, reason, atExit);
  }
}
