import type { Attribute, MappedSpan } from './span-model.js';
import { jsonKeyValue } from './otlp-common.js';
import { groupByScope } from './otlp-protobuf.js';
import { SDK_NAME, SDK_VERSION } from './resource.js';
import { msToNanos } from './time.js';

/**
 * Encodes spans as OTLP/JSON (`application/json`): ids as hex, enums as numbers, 64-bit
 * integers as decimal strings, as the OTLP/HTTP specification requires.
 */
export function encodeOtlpJson(spans: readonly MappedSpan[], resource: readonly Attribute[]): Buffer {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: resource.map(jsonKeyValue) },
        scopeSpans: jsonScopeSpans(spans),
      },
    ],
  };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function jsonScopeSpans(spans: readonly MappedSpan[]): unknown[] {
  const groups = groupByScope(spans);
  if (groups === null) return [{ scope: { name: SDK_NAME, version: SDK_VERSION }, spans: spans.map(jsonSpan) }];
  const out: unknown[] = [];
  for (const g of groups.values()) {
    const scope = g.name === '' ? { name: SDK_NAME, version: SDK_VERSION } : g.version === '' ? { name: g.name } : { name: g.name, version: g.version };
    out.push({ scope, spans: g.spans.map(jsonSpan) });
  }
  return out;
}

function jsonSpan(s: MappedSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: msToNanos(s.startMs).toString(),
    endTimeUnixNano: msToNanos(s.startMs + s.durationMs).toString(),
    attributes: s.attributes.map(jsonKeyValue),
    flags: s.traceFlags & 0xff,
  };
  if (s.parentSpanId !== '') out.parentSpanId = s.parentSpanId;
  if (s.traceState !== '') out.traceState = s.traceState;
  if (s.events.length > 0) {
    out.events = s.events.map((e) => ({ timeUnixNano: msToNanos(e.timeMs).toString(), name: e.name, attributes: e.attributes.map(jsonKeyValue) }));
  }
  if (s.links.length > 0) {
    out.links = s.links.map((l) => {
      const link: Record<string, unknown> = { traceId: l.traceId, spanId: l.spanId, attributes: l.attributes.map(jsonKeyValue) };
      if (l.traceState !== '') link.traceState = l.traceState;
      return link;
    });
  }
  if (s.statusCode !== 0) out.status = s.statusMessage === '' ? { code: s.statusCode } : { code: s.statusCode, message: s.statusMessage };
  return out;
}
