import { ProtoWriter } from './protobuf-writer.js';
import type { ArrayElement, Attribute, AttributeValue, MappedSpan } from './span-model.js';
import { SDK_NAME, SDK_VERSION } from './resource.js';

// Field numbers from opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto,
// resource/v1/resource.proto and collector/trace/v1/trace_service.proto.
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS_RESOURCE = 1;
const RESOURCE_SPANS_SCOPE_SPANS = 2;
const RESOURCE_ATTRIBUTES = 1;
const SCOPE_SPANS_SCOPE = 1;
const SCOPE_SPANS_SPANS = 2;
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_TRACE_STATE = 3;
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_EVENTS = 11;
const SPAN_LINKS = 13;
const SPAN_STATUS = 15;
const SPAN_FLAGS = 16;
const EVENT_TIME = 1;
const EVENT_NAME = 2;
const EVENT_ATTRIBUTES = 3;
const LINK_TRACE_ID = 1;
const LINK_SPAN_ID = 2;
const LINK_TRACE_STATE = 3;
const LINK_ATTRIBUTES = 4;
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;
const KEY_VALUE_KEY = 1;
const KEY_VALUE_VALUE = 2;
const ANY_STRING = 1;
const ANY_BOOL = 2;
const ANY_INT = 3;
const ANY_DOUBLE = 4;
const ANY_ARRAY = 5;
const ARRAY_VALUES = 1;

/**
 * Encodes spans as an `ExportTraceServiceRequest` (OTLP/HTTP with `application/x-protobuf`).
 * One writer is reused across calls, so steady-state encoding allocates only the result.
 */
export class OtlpProtobufEncoder {
  private readonly writer = new ProtoWriter();

  encode(spans: readonly MappedSpan[], resource: readonly Attribute[]): Buffer {
    const w = this.writer;
    w.reset();
    const rs = w.begin(REQUEST_RESOURCE_SPANS);
    const res = w.begin(RESOURCE_SPANS_RESOURCE);
    for (const a of resource) writeKeyValue(w, RESOURCE_ATTRIBUTES, a);
    w.end(res);
    const groups = groupByScope(spans);
    if (groups === null) writeScopeSpans(w, SDK_NAME, SDK_VERSION, spans);
    else for (const g of groups.values()) writeScopeSpans(w, g.name || SDK_NAME, g.name === '' ? SDK_VERSION : g.version, g.spans);
    w.end(rs);
    return w.finish();
  }
}

/** Spans of one instrumentation scope. */
export interface ScopeGroup {
  name: string;
  version: string;
  spans: MappedSpan[];
}

/**
 * Groups spans by instrumentation scope, in order of first appearance; null when every span is the
 * agent's own (the common case: no map, one scope).
 */
export function groupByScope(spans: readonly MappedSpan[]): Map<string, ScopeGroup> | null {
  let i = 0;
  while (i < spans.length && spans[i]!.scopeName === '') i++;
  if (i === spans.length) return null;
  const groups = new Map<string, ScopeGroup>();
  for (const s of spans) {
    const key = `${s.scopeName}\0${s.scopeVersion}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { name: s.scopeName, version: s.scopeVersion, spans: [] }));
    g.spans.push(s);
  }
  return groups;
}

function writeScopeSpans(w: ProtoWriter, name: string, version: string, spans: readonly MappedSpan[]): void {
  const ss = w.begin(RESOURCE_SPANS_SCOPE_SPANS);
  const scope = w.begin(SCOPE_SPANS_SCOPE);
  w.string(SCOPE_NAME, name);
  if (version !== '') w.string(SCOPE_VERSION, version);
  w.end(scope);
  for (const span of spans) writeSpan(w, span);
  w.end(ss);
}

function writeSpan(w: ProtoWriter, s: MappedSpan): void {
  const m = w.begin(SCOPE_SPANS_SPANS);
  w.hexBytes(SPAN_TRACE_ID, s.traceId);
  w.hexBytes(SPAN_SPAN_ID, s.spanId);
  if (s.traceState !== '') w.string(SPAN_TRACE_STATE, s.traceState);
  if (s.parentSpanId !== '') w.hexBytes(SPAN_PARENT_SPAN_ID, s.parentSpanId);
  w.string(SPAN_NAME, s.name);
  w.uint32(SPAN_KIND, s.kind);
  w.nanosFromMs(SPAN_START, s.startMs);
  w.nanosFromMs(SPAN_END, s.startMs + s.durationMs);
  for (const a of s.attributes) writeKeyValue(w, SPAN_ATTRIBUTES, a);
  for (const e of s.events) {
    const em = w.begin(SPAN_EVENTS);
    w.nanosFromMs(EVENT_TIME, e.timeMs);
    w.string(EVENT_NAME, e.name);
    for (const a of e.attributes) writeKeyValue(w, EVENT_ATTRIBUTES, a);
    w.end(em);
  }
  for (const l of s.links) {
    const lm = w.begin(SPAN_LINKS);
    w.hexBytes(LINK_TRACE_ID, l.traceId);
    w.hexBytes(LINK_SPAN_ID, l.spanId);
    if (l.traceState !== '') w.string(LINK_TRACE_STATE, l.traceState);
    for (const a of l.attributes) writeKeyValue(w, LINK_ATTRIBUTES, a);
    w.end(lm);
  }
  if (s.statusCode !== 0) {
    const st = w.begin(SPAN_STATUS);
    if (s.statusMessage !== '') w.string(STATUS_MESSAGE, s.statusMessage);
    w.uint32(STATUS_CODE, s.statusCode);
    w.end(st);
  }
  // Only the W3C trace-flags byte: receivers read bit 0 as "sampled".
  w.fixed32(SPAN_FLAGS, s.traceFlags & 0xff);
  w.end(m);
}

function writeKeyValue(w: ProtoWriter, field: number, a: Attribute): void {
  const kv = w.begin(field);
  w.string(KEY_VALUE_KEY, a.key);
  writeAnyValue(w, KEY_VALUE_VALUE, a.value);
  w.end(kv);
}

function writeAnyValue(w: ProtoWriter, field: number, v: AttributeValue | ArrayElement): void {
  const any = w.begin(field);
  if (typeof v === 'string') w.string(ANY_STRING, v);
  else if (typeof v === 'boolean') w.bool(ANY_BOOL, v);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) w.int64(ANY_INT, v);
    else w.double(ANY_DOUBLE, v);
  } else if (v !== null) {
    const arr = w.begin(ANY_ARRAY);
    for (const item of v) writeAnyValue(w, ARRAY_VALUES, item);
    w.end(arr);
  }
  // null (a hole in an array): an empty AnyValue, as OpenTelemetry's own encoder writes it.
  w.end(any);
}
