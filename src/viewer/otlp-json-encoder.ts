// ViewSpans → an OTLP/JSON `ExportTraceServiceRequest`, grouped by resource and scope, for the
// "download as OTLP JSON" button: the file can be sent to any OTLP/HTTP receiver (this one too) or
// opened again in the page. Times use the exact nanosecond strings kept from the original.
import type { ViewAttribute, ViewSpan, ViewValue } from './model.js';
import { kindNumber, STATUS_ERROR } from './view-span.js';

type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: JsonAnyValue[] } }
  | { kvlistValue: { values: { key: string; value: JsonAnyValue }[] } }
  | Record<string, never>;

/** The request object (call JSON.stringify on it). */
export function toOtlpJson(spans: readonly ViewSpan[]): { resourceSpans: unknown[] } {
  // Spans of one decoded request share their resource and scope arrays/objects, so identity groups
  // them cheaply; spans loaded from a file are compared by content instead.
  const byResource = new Map<string, { resource: ViewAttribute[]; scopes: Map<string, { scope: ViewSpan['scope']; spans: ViewSpan[] }> }>();
  for (const span of spans) {
    const rKey = JSON.stringify(span.resource);
    let group = byResource.get(rKey);
    if (group === undefined) byResource.set(rKey, (group = { resource: span.resource, scopes: new Map() }));
    const sKey = `${span.scope.name}\u0000${span.scope.version}`;
    let scope = group.scopes.get(sKey);
    if (scope === undefined) group.scopes.set(sKey, (scope = { scope: span.scope, spans: [] }));
    scope.spans.push(span);
  }
  return {
    resourceSpans: [...byResource.values()].map((g) => ({
      resource: { attributes: g.resource.map(keyValue) },
      scopeSpans: [...g.scopes.values()].map((s) => ({ scope: { name: s.scope.name, version: s.scope.version }, spans: s.spans.map(spanJson) })),
    })),
  };
}

function spanJson(s: ViewSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: kindNumber(s.kind),
    startTimeUnixNano: s.startTimeUnixNano,
    endTimeUnixNano: s.endTimeUnixNano,
    attributes: s.attributes.map(keyValue),
    events: s.events.map((e) => ({ timeUnixNano: msToNanoString(e.timeMs), name: e.name, attributes: e.attributes.map(keyValue) })),
    links: s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes.map(keyValue) })),
  };
  // An error (by status or by an `error=true` tag) goes out as an OTLP error status, so it stays one when read back.
  if (s.error) out.status = { code: STATUS_ERROR, message: s.statusMessage };
  else if (s.statusMessage !== '') out.status = { message: s.statusMessage };
  return out;
}

function keyValue(a: ViewAttribute): { key: string; value: JsonAnyValue } {
  return { key: a.key, value: anyValue(a.value) };
}

function anyValue(v: ViewValue): JsonAnyValue {
  if (v === null) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: Number.isFinite(v) ? v : String(v) };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: Object.keys(v).map((key) => ({ key, value: anyValue(v[key]!) })) } };
}

function msToNanoString(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}
