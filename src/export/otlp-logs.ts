import type { LogRecordData } from '../agent/instrumentation.js';
import type { TagValue } from '../api/span.js';
import type { OtlpProtocol } from '../config/types.js';
import { guard, log } from '../util/log.js';
import type { BatchExporter } from './batch-processor.js';
import { DropReporter } from './drop-reporter.js';
import { HttpSender, type HttpSenderOptions } from './http-sender.js';
import { mapLogRecord, type MappedLogRecord } from './log-model.js';
import { encodeOtlpLogsJson } from './otlp-logs-json.js';
import { OtlpLogsProtobufEncoder } from './otlp-logs-protobuf.js';
import { buildResource } from './resource.js';
import type { Attribute } from './span-model.js';

/** A record as queued: the logger's data and when the agent saw it. */
export interface QueuedLogRecord {
  record: LogRecordData;
  observedMs: number;
}

/** Options of the OTLP logs exporter: the trace exporter's, with the logs URL. */
export interface OtlpLogExporterOptions extends Omit<HttpSenderOptions, 'contentType'> {
  protocol?: OtlpProtocol;
  /** The tracer's resource (service name, version, user tags): logs and spans describe the same service. */
  resource?: Readonly<Record<string, TagValue>>;
}

/** Counters of the logs exporter, for tests and debugging. */
export interface LogExporterStats {
  exportedRecords: number;
  droppedRecords: number;
  requests: number;
}

/**
 * Sends log records over OTLP/HTTP (`/v1/logs`), with the same sender (retries, timeouts, never
 * traced, unref'd) and drop accounting as the trace exporter.
 */
export class OtlpLogExporter implements BatchExporter<QueuedLogRecord> {
  private readonly resource: readonly Attribute[];
  private readonly sender: HttpSender;
  private readonly protobuf: OtlpLogsProtobufEncoder | null;
  /** Shared with the batch processor in front of it, so the pipeline warns in one line. */
  readonly drops: DropReporter;
  private readonly counters: LogExporterStats = { exportedRecords: 0, droppedRecords: 0, requests: 0 };

  constructor(options: OtlpLogExporterOptions) {
    const json = options.protocol === 'http/json';
    this.resource = buildResource(options.resource ?? {});
    this.sender = new HttpSender({ ...options, contentType: json ? 'application/json' : 'application/x-protobuf' });
    this.protobuf = json ? null : new OtlpLogsProtobufEncoder();
    this.drops = new DropReporter(`otlp logs exporter (${this.sender.displayUrl})`, undefined, undefined, 'log record');
    const sender = this.sender;
    this.drops.status = () => sender.outageTiming();
  }

  export(items: readonly QueuedLogRecord[]): Promise<void> {
    const count = items.length;
    if (count === 0) return Promise.resolve();
    const body = guard('log export encoding', () => {
      const mapped: MappedLogRecord[] = new Array(count);
      for (let i = 0; i < count; i++) mapped[i] = mapLogRecord(items[i]!.record, items[i]!.observedMs);
      return this.protobuf === null ? encodeOtlpLogsJson(mapped, this.resource) : this.protobuf.encode(mapped, this.resource);
    }, null);
    if (body === null) {
      this.dropped(count, 'could not encode the batch');
      return Promise.resolve();
    }
    return this.send(body, count);
  }

  private async send(body: Buffer, count: number): Promise<void> {
    const result = await this.sender.send(body);
    this.counters.requests += result.attempts;
    if (result.ok) {
      this.counters.exportedRecords += count;
      if (result.attempts > 1) log.debug(`exported ${count} log record(s) after ${result.attempts} tries`);
      return;
    }
    const tries = result.attempts === 0 ? 'not tried' : `${result.attempts} ${result.attempts === 1 ? 'try' : 'tries'}`;
    this.dropped(count, `${result.reason} (${tries})`, result.atExit === true);
  }

  /** The process is ending: one bounded try per batch from now on (see `Retrier.beginExit`). */
  beginExit(deadline: number): void {
    this.sender.beginExit(deadline);
  }

  /** Why the collector is not being reached, or null when it is. */
  outage(): string | null {
    return this.sender.outage();
  }

  stats(): Readonly<LogExporterStats> {
    return { ...this.counters };
  }

  async shutdown(): Promise<void> {
    this.sender.shutdown();
  }

  private dropped(count: number, reason: string, atExit = false): void {
    this.counters.droppedRecords += count;
    this.drops.add(count, reason, atExit);
  }
}

/**
 * The OTLP logs URL next to a traces URL: `…/v1/traces` becomes `…/v1/logs` (same collector, same
 * base path); a traces URL with another path gets `/v1/logs` appended to it.
 */
export function logsUrlFor(tracesUrl: string): string {
  const u = new URL(tracesUrl);
  u.pathname = /\/v1\/traces\/?$/.test(u.pathname) ? u.pathname.replace(/\/v1\/traces\/?$/, '/v1/logs') : `${u.pathname.replace(/\/+$/, '')}/v1/logs`;
  return u.toString();
}
