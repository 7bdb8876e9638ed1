import { SpanKind, StatusCode, type Attribute, type AttributeValue, type MappedSpan } from './span-model.js';

const KIND_NAMES: Record<number, string> = {
  [SpanKind.UNSPECIFIED]: 'unspecified',
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

/** One span as a JSON line (the `file` exporter and `TRACING_CONSOLE_FORMAT=json`). */
export interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  /** Milliseconds since the epoch. */
  startTime: number;
  /** Milliseconds. */
  duration: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string;
  /** The OpenTelemetry instrumentation scope, for spans started through the OpenTelemetry API. */
  scope?: { name: string; version: string };
  attributes: Record<string, AttributeValue>;
  events: { name: string; time: number; attributes: Record<string, AttributeValue> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
}

/** Maps a span to its JSON-line record; the same fields as OTLP, in a shape made for `jq`. */
export function toSpanRecord(s: MappedSpan, service: string): SpanRecord {
  const record: SpanRecord = {
    service,
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: KIND_NAMES[s.kind] ?? 'internal',
    startTime: s.startMs,
    duration: s.durationMs,
    status: s.statusCode === StatusCode.ERROR ? 'error' : s.statusCode === StatusCode.OK ? 'ok' : 'unset',
    attributes: toObject(s.attributes),
    events: s.events.map((e) => ({ name: e.name, time: e.timeMs, attributes: toObject(e.attributes) })),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: toObject(l.attributes) })),
  };
  if (s.statusMessage !== '') record.statusMessage = s.statusMessage;
  if (s.scopeName !== '') record.scope = { name: s.scopeName, version: s.scopeVersion };
  return record;
}

function toObject(attributes: readonly Attribute[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of attributes) out[a.key] = a.value;
  return out;
}
