import type { Span, TagValue } from '../api/span.js';
import { REFERENCE_FOLLOWS_FROM, Tags } from '../api/tags.js';

/** OTLP span kinds, numbered as in `opentelemetry.proto.trace.v1.Span.SpanKind`. */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export type SpanKindCode = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP status codes, numbered as in `opentelemetry.proto.trace.v1.Status.StatusCode`. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type StatusCodeValue = (typeof StatusCode)[keyof typeof StatusCode];

/** One element of an array attribute (OpenTelemetry allows null/undefined holes in arrays). */
export type ArrayElement = string | number | boolean | null;

/**
 * An attribute value after mapping: a primitive, or an array of primitives (from spans started
 * through the OpenTelemetry API; OTLP carries it as an ArrayValue, other formats as JSON text).
 */
export type AttributeValue = string | number | boolean | readonly ArrayElement[];

/** One attribute; a list rather than an object so encoders walk it without `Object.keys`. */
export interface Attribute {
  readonly key: string;
  readonly value: AttributeValue;
}

/** A span log, as an OTLP event. */
export interface MappedEvent {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes: readonly Attribute[];
}

/** A `follows_from` (or extra `child_of`) reference, as an OTLP link. */
export interface MappedLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: readonly Attribute[];
}

/**
 * A finished span in the shape every exporter shares. The mapping from OpenTracing conventions
 * lives here once, so OTLP, Zipkin, console and file all agree on kind, status and events.
 */
export interface MappedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly traceFlags: number;
  readonly name: string;
  readonly kind: SpanKindCode;
  readonly startMs: number;
  readonly durationMs: number;
  /** Tags minus those that became structure (`span.kind`, `error`), plus exported baggage. */
  readonly attributes: readonly Attribute[];
  readonly events: readonly MappedEvent[];
  readonly links: readonly MappedLink[];
  readonly statusCode: StatusCodeValue;
  /** The error message when the status is ERROR and one is known; else ''. */
  readonly statusMessage: string;
  /** The OpenTelemetry instrumentation scope that started the span; '' for the agent's own spans. */
  readonly scopeName: string;
  readonly scopeVersion: string;
}

/** Options of `mapSpan`. */
export interface MapOptions {
  /** Export baggage items as `baggage.<key>` attributes. Off by default: baggage may hold user data. */
  exportBaggage: boolean;
}

const NO_ATTRIBUTES: readonly Attribute[] = Object.freeze([]) as readonly Attribute[];
const NO_EVENTS: readonly MappedEvent[] = Object.freeze([]) as readonly MappedEvent[];
const NO_LINKS: readonly MappedLink[] = Object.freeze([]) as readonly MappedLink[];

/**
 * `span.kind` tag value → OTLP kind; any other value (or no tag) is INTERNAL. A `Map` rather than a
 * `switch`: a lookup is V8's own code where a function is one more to compile when a path gets hot
 * (docs/performance.md, round sixteen). The OTLP/protobuf batch encoder (`writeFinishedSpan`) compares
 * instead, inline, for the same codes.
 */
export const SPAN_KIND_CODES: ReadonlyMap<TagValue | undefined, SpanKindCode> = new Map<TagValue | undefined, SpanKindCode>([
  [Tags.SPAN_KIND_RPC_SERVER, SpanKind.SERVER],
  [Tags.SPAN_KIND_RPC_CLIENT, SpanKind.CLIENT],
  [Tags.SPAN_KIND_MESSAGING_PRODUCER, SpanKind.PRODUCER],
  [Tags.SPAN_KIND_MESSAGING_CONSUMER, SpanKind.CONSUMER],
]);

/** `span.kind` tag value → OTLP kind (see `SPAN_KIND_CODES`). */
export function kindFromTag(value: TagValue | undefined): SpanKindCode {
  return SPAN_KIND_CODES.get(value) ?? SpanKind.INTERNAL;
}

/**
 * Maps one finished span. The rules (tested in test/unit/export/span-model.test.ts):
 * - `span.kind` tag → kind; the tag itself is not repeated as an attribute;
 * - `error: true` (or `'true'`) → status ERROR with the first error log's message; the tag is dropped;
 * - each log → an event named by its `event` field (else `log`); an error log
 *   (`event: 'error'`) becomes the OTel `exception` event with `exception.type/message/stacktrace`;
 * - references kept on the span (`follows_from`, extra `child_of`) → links with `opentracing.ref_type`;
 * - baggage → `baggage.<key>` attributes only when `exportBaggage` is on.
 */
export function mapSpan(span: Span, options: MapOptions): MappedSpan {
  const ctx = span.context();
  const tags = span.tags;
  let kind: SpanKindCode = SpanKind.INTERNAL;
  let failed = false;
  let attributes: Attribute[] | null = null;
  const extras = span._extras;
  for (const key in tags) {
    const value = tags[key]!;
    if (key === Tags.SPAN_KIND) {
      kind = kindFromTag(value);
      continue;
    }
    if (key === Tags.ERROR) {
      failed = value === true || value === 'true';
      continue;
    }
    (attributes ??= []).push({ key, value: value as AttributeValue });
  }
  if (options.exportBaggage && ctx.baggage !== null) {
    for (const key of Object.keys(ctx.baggage)) (attributes ??= []).push({ key: `baggage.${key}`, value: ctx.baggage[key]! });
  }

  let statusMessage = '';
  let events: MappedEvent[] | null = null;
  const logs = span.logs;
  for (let i = 0; i < logs.length; i++) {
    const entry = logs[i]!;
    const event = mapLog(entry.fields, entry.timestamp);
    if (event.name === 'exception' && statusMessage === '') {
      for (const a of event.attributes) if (a.key === 'exception.message') statusMessage = String(a.value);
    }
    (events ??= []).push(event);
  }

  let links: MappedLink[] | null = null;
  const refs = span.references;
  if (refs !== null) {
    for (const ref of refs) {
      const rc = ref.referencedContext();
      (links ??= []).push({
        traceId: rc.traceId,
        spanId: rc.spanId,
        traceState: rc.traceState,
        attributes: [{ key: 'opentracing.ref_type', value: ref.type() === REFERENCE_FOLLOWS_FROM ? 'follows_from' : 'child_of' }],
      });
    }
  }

  let statusCode: StatusCodeValue = failed ? StatusCode.ERROR : StatusCode.UNSET;
  let scopeName = '';
  let scopeVersion = '';
  if (extras !== null) {
    scopeName = extras.scopeName;
    scopeVersion = extras.scopeVersion;
    // An explicit `setStatus` wins over the error tag (OpenTelemetry: OK is final, ERROR has its message).
    if (extras.statusCode !== StatusCode.UNSET) {
      statusCode = extras.statusCode;
      if (statusCode === StatusCode.ERROR && extras.statusMessage !== '') statusMessage = extras.statusMessage;
    }
    if (extras.links !== null) {
      for (const l of extras.links) {
        (links ??= []).push({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState, attributes: toAttributes(l.attributes) });
      }
    }
  }

  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanId,
    traceState: ctx.traceState,
    traceFlags: ctx.traceFlags,
    name: span.operationName,
    kind,
    startMs: span.startTime,
    durationMs: span.duration < 0 ? 0 : span.duration,
    attributes: attributes ?? NO_ATTRIBUTES,
    events: events ?? NO_EVENTS,
    links: links ?? NO_LINKS,
    statusCode,
    statusMessage: statusCode === StatusCode.ERROR ? statusMessage : '',
    scopeName,
    scopeVersion,
  };
}

// OpenTracing error log field → OTel exception attribute.
const EXCEPTION_FIELDS: Readonly<Record<string, string>> = {
  'error.kind': 'exception.type',
  'error.object': 'exception.type',
  message: 'exception.message',
  stack: 'exception.stacktrace',
};

export function mapLog(fields: Readonly<Record<string, unknown>>, timeMs: number): MappedEvent {
  const named = fields.event;
  const isError = named === 'error';
  const name = isError ? 'exception' : typeof named === 'string' && named !== '' ? named : 'log';
  const attributes: Attribute[] = [];
  for (const key of Object.keys(fields)) {
    if (key === 'event') continue;
    const value = toAttributeValue(fields[key]);
    if (value === undefined) continue;
    const mapped = isError ? EXCEPTION_FIELDS[key] : undefined;
    if (mapped !== undefined) {
      // An Error object under `error.object` gives the type name, not its JSON.
      const v = key === 'error.object' && fields[key] instanceof Error ? (fields[key] as Error).name : value;
      if (!attributes.some((a) => a.key === mapped)) attributes.push({ key: mapped, value: v });
    } else attributes.push({ key, value });
  }
  return { name, timeMs, attributes };
}

function toAttributes(record: Readonly<Record<string, unknown>>): Attribute[] {
  const out: Attribute[] = [];
  for (const key of Object.keys(record)) {
    const value = toAttributeValue(record[key]);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

/** An array of primitives (null/undefined holes allowed) stays an array; anything else is not one. */
function primitiveArray(value: readonly unknown[]): ArrayElement[] | undefined {
  const out: ArrayElement[] = [];
  for (const item of value) {
    if (item === null || item === undefined) out.push(null);
    else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') out.push(item);
    else return undefined;
  }
  return out;
}

/**
 * Strings, numbers, booleans and arrays of them pass through; other values become JSON (or their
 * String form).
 */
export function toAttributeValue(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return value.toString();
    default:
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        const list = primitiveArray(value);
        if (list !== undefined) return list;
      }
      if (value instanceof Error) return `${value.name}: ${value.message}`;
      try {
        return JSON.stringify(value) ?? undefined;
      } catch {
        return '[unserializable]';
      }
  }
}
