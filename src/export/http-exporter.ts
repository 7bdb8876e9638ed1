import type { Span } from '../api/span.js';
import type { TagValue } from '../api/span.js';
import { guard, log } from '../util/log.js';
import { DropReporter } from './drop-reporter.js';
import { HttpSender, type HttpSenderOptions } from './http-sender.js';
import { buildResource } from './resource.js';
import type { SpanExporter } from './span-processor.js';
import { mapSpan, type Attribute, type MapOptions, type MappedSpan } from './span-model.js';

/** Counters of an exporter, for tests, the `config` command and debugging. */
export interface ExporterStats {
  /** Spans the backend accepted. */
  exportedSpans: number;
  /** Spans given up on after the last try (or refused with a non-retryable status). */
  droppedSpans: number;
  /** HTTP requests made, retries included. */
  requests: number;
}

/** Options shared by the OTLP and Zipkin exporters. */
export interface HttpExporterOptions extends Omit<HttpSenderOptions, 'contentType'>, Partial<MapOptions> {
  /** The tracer's resource (service name, version, user tags). */
  resource?: Readonly<Record<string, TagValue>>;
}

/**
 * Maps, encodes and POSTs batches. Subclasses choose the wire format; failures are counted and
 * reported at most once a minute, never thrown.
 */
export abstract class HttpSpanExporter implements SpanExporter {
  protected readonly resource: readonly Attribute[];
  private readonly mapOptions: MapOptions;
  private readonly sender: HttpSender;
  /** Shared with the batch processor in front of it, so a pipeline warns in one line. */
  readonly drops: DropReporter;
  private readonly counters: ExporterStats = { exportedSpans: 0, droppedSpans: 0, requests: 0 };

  protected constructor(name: string, contentType: string, options: HttpExporterOptions) {
    this.resource = buildResource(options.resource ?? {});
    this.mapOptions = { exportBaggage: options.exportBaggage === true };
    this.sender = new HttpSender({ ...options, contentType });
    this.drops = new DropReporter(`${name} exporter (${this.sender.displayUrl})`);
    const delivery = this.sender.delivery;
    this.drops.status = () => delivery.outageTiming();
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
  protected sendEncoded(body: Buffer, count: number): Promise<void> {
    if (count === 0) return Promise.resolve();
    if (body.length === 0) {
      this.dropped(count, 'could not encode the batch');
      return Promise.resolve();
    }
    return this.send(body, count);
  }

  private async send(body: Buffer, count: number): Promise<void> {
    const result = await this.sender.send(body);
    this.counters.requests += result.attempts;
    if (result.ok) {
      this.counters.exportedSpans += count;
      if (result.attempts > 1) log.debug(`exported ${count} span(s) after ${result.attempts} tries`);
      return;
    }
    const tries = result.attempts === 0 ? 'not tried' : `${result.attempts} ${result.attempts === 1 ? 'try' : 'tries'}`;
    this.dropped(count, `${result.reason} (${tries})`);
  }

  /** The process is ending: one bounded try per batch from now on (see `Delivery.beginExit`). */
  beginExit(deadline: number): void {
    this.sender.beginExit(deadline);
  }

  /** Why the collector is not being reached, or null when it is. */
  outage(): string | null {
    return this.sender.delivery.outage();
  }

  stats(): Readonly<ExporterStats> {
    return { ...this.counters };
  }

  async shutdown(): Promise<void> {
    this.sender.shutdown();
  }

  private dropped(count: number, reason: string): void {
    this.counters.droppedSpans += count;
    this.drops.add(count, reason);
  }
}
