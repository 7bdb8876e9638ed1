import type { InstrumentationContext, LogRecordData, LogsKit, SpanContext, Tracer } from '../../src/agent/instrumentation.js';

/*
 * What the three logger instrumentations share: the OpenTelemetry log data model names for the ids
 * (so collectors, Loki, Elastic and Grafana's derived fields join logs to traces without
 * configuration), the severity mapping, and turning a record into what the logs exporter sends.
 */

export const TRACE_ID = 'trace_id';
export const SPAN_ID = 'span_id';
export const TRACE_FLAGS = 'trace_flags';

const hasOwn = Object.prototype.hasOwnProperty;

/** The logs kit of `ctx`. */
export function logsKit(ctx: InstrumentationContext): LogsKit {
  return ctx.logs;
}

/** The context of the active span, or null outside a trace (one AsyncLocalStorage read). */
export function activeContext(tracer: Tracer): SpanContext | null {
  const span = tracer.activeSpan();
  return span === null ? null : span.context();
}

/** `01` when sampled, `00` when not: only the sampled bit, as the log data model's examples show it. */
export function flagsText(context: SpanContext): string {
  return (context.traceFlags & 1) === 1 ? '01' : '00';
}

/** True when the record already carries a `trace_id` of its own (the user's wins, always). */
export function hasTraceId(record: object): boolean {
  return hasOwn.call(record, TRACE_ID);
}

/**
 * Adds the three fields to a record object the logger made itself (never one the app handed in).
 * Fields the record already has are kept.
 */
export function addTraceFields(record: Record<string, unknown>, context: SpanContext): void {
  if (hasTraceId(record)) return;
  record[TRACE_ID] = context.traceId;
  if (!hasOwn.call(record, SPAN_ID)) record[SPAN_ID] = context.spanId;
  if (!hasOwn.call(record, TRACE_FLAGS)) record[TRACE_FLAGS] = flagsText(context);
}

// OpenTelemetry severity numbers: the first of each range (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21).
const SEVERITY_BY_NAME: Readonly<Record<string, number>> = {
  trace: 1,
  silly: 1,
  debug: 5,
  verbose: 6,
  http: 7,
  info: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  error: 17,
  crit: 18,
  critical: 18,
  alert: 19,
  emerg: 21,
  fatal: 21,
};

/** A level name (`info`, `warning`, …) as an OpenTelemetry severity number; 0 when unknown. */
export function severityOfName(name: string): number {
  return SEVERITY_BY_NAME[name.toLowerCase()] ?? 0;
}

/** pino's and bunyan's numeric levels (10 trace … 60 fatal) as OpenTelemetry severity numbers. */
export function severityOfNumber(level: number): number {
  if (level >= 60) return 21;
  if (level >= 50) return 17;
  if (level >= 40) return 13;
  if (level >= 30) return 9;
  if (level >= 20) return 5;
  return level > 0 ? 1 : 0;
}

/** The record for the logs exporter; `fields` is a fresh object this function may keep. */
export function exportRecord(
  scope: string,
  timeMs: number,
  severityNumber: number,
  severityText: string,
  body: unknown,
  fields: Record<string, unknown>,
  context: SpanContext | null,
): LogRecordData {
  return {
    timeMs,
    severityNumber,
    severityText,
    body: typeof body === 'string' ? body : body === undefined || body === null ? '' : safeText(body),
    attributes: fields,
    traceId: context === null ? '' : context.traceId,
    spanId: context === null ? '' : context.spanId,
    traceFlags: context === null ? 0 : context.traceFlags,
    scope,
  };
}

function safeText(value: unknown): string {
  try {
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}
