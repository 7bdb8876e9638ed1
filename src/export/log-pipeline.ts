import type { LogRecordData } from '../agent/instrumentation.js';
import type { TagValue } from '../api/span.js';
import type { ExportConfig, LogsConfig } from '../config/types.js';
import { log } from '../util/log.js';
import { BatchProcessor } from './batch-processor.js';
import { logsUrlFor, OtlpLogExporter, type QueuedLogRecord } from './otlp-logs.js';

/** The logs exporter as the agent uses it. */
export interface LogPipeline {
  /** Queues one record (cheap, bounded, never throws): what the logger instrumentations call. */
  emit(record: LogRecordData): void;
  /** With `exitDeadline` (a `Date.now()` time): the process is ending, see `SpanProcessor.forceFlush`. */
  forceFlush(exitDeadline?: number): Promise<void>;
  shutdown(): Promise<void>;
  pendingCount(): number;
}

/**
 * Builds the logs pipeline `TRACING_LOGS_EXPORTER` asks for, or null for `none`: the trace
 * exporter's endpoint base, protocol, headers, compression, timeout and queue bounds, its resource,
 * and its drop accounting, with records in a queue of their own (a flood of logs never crowds out spans).
 */
export function createLogPipeline(logs: LogsConfig, cfg: ExportConfig, resource: Readonly<Record<string, TagValue>>): LogPipeline | null {
  if (logs.exporter !== 'otlp') return null;
  if (cfg.protocol === 'grpc') {
    log.warn('TRACING_LOGS_EXPORTER=otlp sends over OTLP/HTTP only (http/protobuf or http/json), not with TRACING_EXPORTER_PROTOCOL=grpc: log records are not exported');
    return null;
  }
  const exporter = new OtlpLogExporter({
    url: logsUrlFor(cfg.endpoint),
    protocol: cfg.protocol,
    headers: cfg.headers,
    compression: cfg.compression,
    timeoutMs: cfg.timeoutMs,
    resource,
  });
  const processor = new BatchProcessor<QueuedLogRecord>(exporter, cfg.batch, 'log record');
  return {
    emit: (record) => {
      try {
        processor.onEnd({ record, observedMs: Date.now() });
      } catch {
        // Never into the app's log call.
      }
    },
    forceFlush: (exitDeadline) => processor.forceFlush(exitDeadline),
    shutdown: () => processor.shutdown(),
    pendingCount: () => processor.pendingCount(),
  };
}
