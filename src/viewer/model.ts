/**
 * The contract between the viewer's server (receiver, store, HTTP API) and its page. The server
 * turns every OTLP span it receives, from any sender, into a `ViewSpan`; the page only ever sees
 * these shapes, as JSON, from the endpoints listed at the end of this file.
 *
 * Times are milliseconds since the Unix epoch as numbers (sub-millisecond precision kept in the
 * fraction); the exact nanosecond strings from OTLP are kept too, for the OTLP JSON download.
 */

/** An attribute value as OTLP carries it, flattened to JSON: arrays and key-value lists nest. */
export type ViewValue = string | number | boolean | null | ViewValue[] | { [key: string]: ViewValue };

export interface ViewAttribute {
  key: string;
  value: ViewValue;
}

export interface ViewEvent {
  timeMs: number;
  name: string;
  attributes: ViewAttribute[];
}

export interface ViewLink {
  traceId: string;
  spanId: string;
  attributes: ViewAttribute[];
}

/** OTLP span kinds, by name. */
export type ViewSpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface ViewSpan {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: ViewSpanKind;
  /** `service.name` from the span's resource ('unknown_service' when absent). */
  service: string;
  startMs: number;
  durationMs: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** OTLP status code is ERROR, or an `error=true` attribute (OpenTracing style). */
  error: boolean;
  statusMessage: string;
  attributes: ViewAttribute[];
  events: ViewEvent[];
  links: ViewLink[];
  resource: ViewAttribute[];
  scope: { name: string; version: string };
}

/** One OTLP log record of a trace (records without a trace are not kept). */
export interface ViewLogRecord {
  traceId: string;
  /** '' when the record names no span. */
  spanId: string;
  /** The record's time, else when it was observed (ms since epoch). */
  timeMs: number;
  /** OTLP severity number (1 trace … 21 fatal); 0 unknown. */
  severityNumber: number;
  severityText: string;
  /** The body as text (non-string bodies as JSON). */
  body: string;
  attributes: ViewAttribute[];
  /** `service.name` of the record's resource. */
  service: string;
  /** The instrumentation scope (the logging library). */
  scope: string;
}

/** One row of the trace list. */
export interface TraceSummary {
  traceId: string;
  /** The root span's service and name; for a trace whose root never arrived, its earliest span's. */
  rootService: string;
  rootName: string;
  /** False when no span without a parent has arrived (yet). */
  hasRoot: boolean;
  startMs: number;
  /** From the earliest start to the latest end of the spans received so far. */
  durationMs: number;
  spanCount: number;
  services: string[];
  errorCount: number;
  /** When the last span of this trace arrived (ms since epoch). The list is ordered by startMs, newest first. */
  updatedMs: number;
}

/** What the store holds and has dropped, shown on the page. */
export interface StoreStats {
  traces: number;
  spans: number;
  maxSpans: number;
  evictedTraces: number;
  evictedSpans: number;
  /** Requests the receiver refused (malformed, oversized, wrong type). */
  rejectedRequests: number;
}

/**
 * Query of `GET /api/traces` (all optional): `service`, `operation` (any span's name, exact),
 * `minDurationMs`, `errors=1`, `tag=key=value` (any span's attribute, value compared as text),
 * `traceId` (a prefix of at least 4 hex characters), `limit` (default 200, at most 1000).
 */
export interface TraceListResponse {
  traces: TraceSummary[];
  /** How many traces matched before `limit` cut the list. */
  matched: number;
  stats: StoreStats;
  /** Every service and operation name seen, for the filter drop-downs. */
  services: string[];
  operations: string[];
}

/** `GET /api/traces/:traceId` (404 with `{ error }` when unknown). Spans in start order, log records in time order. */
export interface TraceResponse {
  traceId: string;
  spans: ViewSpan[];
  logs: ViewLogRecord[];
}

/**
 * `GET /api/events` is a server-sent event stream: `event: traces` with `data` a JSON
 * `TraceUpdate` whenever spans arrive (coalesced: at most a few per second), and `event: stats`
 * with `StoreStats` after evictions.
 */
export interface TraceUpdate {
  /** Summaries of every trace that changed since the last event. */
  traces: TraceSummary[];
  stats: StoreStats;
}

/*
 * Endpoints (web port):
 *   GET /                     the trace list page
 *   GET /trace/:traceId       the trace page (the same HTML; the script reads the URL)
 *   GET /assets/*             the page's script and stylesheet (no CDN, works offline)
 *   GET /api/traces           TraceListResponse
 *   GET /api/traces/:traceId  TraceResponse
 *   GET /api/traces/:traceId/otlp   the trace as OTLP JSON (ExportTraceServiceRequest), as a download
 *   GET /api/events           SSE stream of TraceUpdate
 * OTLP port: POST /v1/traces and POST /v1/logs (application/x-protobuf or application/json, optionally gzip).
 */
