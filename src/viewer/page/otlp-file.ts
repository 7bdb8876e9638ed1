// Reads a saved OTLP JSON file in the browser (nothing is uploaded): an ExportTraceServiceRequest as
// our download writes it, or JSON lines of them as the OpenTelemetry Collector's file exporter
// writes them. Accepts what the OTLP/JSON mapping allows: hex ids (or base64 from generic protobuf
// JSON), enums as numbers or names, 64-bit integers as strings or numbers. DOM-free.
import type { ViewAttribute, ViewSpan, ViewSpanKind, ViewValue } from '../model.js';

type Json = Record<string, unknown>;

const KINDS: readonly ViewSpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** Parses the text of an OTLP JSON file into spans; throws an Error saying what is wrong. */
export function parseOtlpJson(text: string): ViewSpan[] {
  const documents: unknown[] = [];
  try {
    documents.push(JSON.parse(text));
  } catch (wholeError) {
    // JSON lines: one request per line.
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    if (lines.length < 2) throw new Error(`not JSON: ${(wholeError as Error).message}`);
    lines.forEach((line, i) => {
      try {
        documents.push(JSON.parse(line));
      } catch (error) {
        throw new Error(`line ${i + 1} is not JSON: ${(error as Error).message}`);
      }
    });
  }
  const spans: ViewSpan[] = [];
  for (const document of documents) {
    const resourceSpans = isObject(document) ? document['resourceSpans'] : undefined;
    if (!Array.isArray(resourceSpans)) throw new Error('not an OTLP trace export: no "resourceSpans" array');
    for (const rs of resourceSpans) readResourceSpans(rs, spans);
  }
  if (spans.length === 0) throw new Error('the file holds no spans');
  spans.sort((a, b) => a.startMs - b.startMs);
  return spans;
}

function readResourceSpans(rs: unknown, out: ViewSpan[]): void {
  if (!isObject(rs)) return;
  const resource = attributes(isObject(rs['resource']) ? rs['resource']['attributes'] : undefined);
  const serviceAttr = resource.find((a) => a.key === 'service.name');
  const service = typeof serviceAttr?.value === 'string' && serviceAttr.value ? serviceAttr.value : 'unknown_service';
  // "instrumentationLibrarySpans" is the name before OTLP 0.15; some saved files still use it.
  const scopeSpans = rs['scopeSpans'] ?? rs['instrumentationLibrarySpans'];
  if (!Array.isArray(scopeSpans)) return;
  for (const ss of scopeSpans) {
    if (!isObject(ss)) continue;
    const scopeJson = ss['scope'] ?? ss['instrumentationLibrary'];
    const scope = { name: isObject(scopeJson) ? text(scopeJson['name']) : '', version: isObject(scopeJson) ? text(scopeJson['version']) : '' };
    const spans = ss['spans'];
    if (!Array.isArray(spans)) continue;
    for (const span of spans) {
      const view = readSpan(span, service, resource, scope);
      if (view) out.push(view);
    }
  }
}

function readSpan(span: unknown, service: string, resource: ViewAttribute[], scope: ViewSpan['scope']): ViewSpan | null {
  if (!isObject(span)) return null;
  const traceId = id(span['traceId'], 16);
  const spanId = id(span['spanId'], 8);
  if (!traceId || !spanId) return null;
  const start = nanos(span['startTimeUnixNano']);
  const end = nanos(span['endTimeUnixNano']);
  const attrs = attributes(span['attributes']);
  const status = isObject(span['status']) ? span['status'] : {};
  const code = status['code'];
  const errorAttr = attrs.find((a) => a.key === 'error');
  return {
    traceId,
    spanId,
    parentSpanId: id(span['parentSpanId'], 8),
    name: text(span['name']),
    kind: kind(span['kind']),
    service,
    startMs: nanosToMs(start),
    durationMs: Math.max(0, nanosToMs(end) - nanosToMs(start)),
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: end.toString(),
    error: code === 2 || code === 'STATUS_CODE_ERROR' || errorAttr?.value === true || errorAttr?.value === 'true',
    statusMessage: text(status['message']),
    attributes: attrs,
    events: (Array.isArray(span['events']) ? span['events'] : []).filter(isObject).map((e) => ({
      timeMs: nanosToMs(nanos(e['timeUnixNano'])),
      name: text(e['name']),
      attributes: attributes(e['attributes']),
    })),
    links: (Array.isArray(span['links']) ? span['links'] : []).filter(isObject).map((l) => ({
      traceId: id(l['traceId'], 16),
      spanId: id(l['spanId'], 8),
      attributes: attributes(l['attributes']),
    })),
    resource,
    scope,
  };
}

function attributes(list: unknown): ViewAttribute[] {
  if (!Array.isArray(list)) return [];
  const out: ViewAttribute[] = [];
  for (const kv of list) {
    if (isObject(kv) && typeof kv['key'] === 'string') out.push({ key: kv['key'], value: anyValue(kv['value']) });
  }
  return out;
}

function anyValue(value: unknown): ViewValue {
  if (!isObject(value)) return null;
  if ('stringValue' in value) return text(value['stringValue']);
  if ('boolValue' in value) return value['boolValue'] === true || value['boolValue'] === 'true';
  if ('intValue' in value) {
    const n = Number(value['intValue']);
    // Beyond 2^53 a number would silently change the value: keep the exact digits as text.
    return Number.isSafeInteger(n) ? n : String(value['intValue']);
  }
  if ('doubleValue' in value) return Number(value['doubleValue']);
  if ('bytesValue' in value) return text(value['bytesValue']);
  if ('arrayValue' in value) {
    const values = isObject(value['arrayValue']) ? value['arrayValue']['values'] : undefined;
    return Array.isArray(values) ? values.map(anyValue) : [];
  }
  if ('kvlistValue' in value) {
    const values = isObject(value['kvlistValue']) ? value['kvlistValue']['values'] : undefined;
    const out: { [key: string]: ViewValue } = Object.create(null) as { [key: string]: ViewValue };
    for (const kv of attributes(values)) out[kv.key] = kv.value;
    return out;
  }
  return null;
}

/** A trace or span id as lowercase hex; OTLP/JSON says hex, generic protobuf JSON gives base64. */
function id(value: unknown, bytes: number): string {
  if (typeof value !== 'string' || value === '') return '';
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return /^0+$/.test(value) ? '' : value.toLowerCase();
  try {
    const raw = atob(value);
    if (raw.length !== bytes) return '';
    let hex = '';
    for (let i = 0; i < raw.length; i++) hex += raw.charCodeAt(i).toString(16).padStart(2, '0');
    return /^0+$/.test(hex) ? '' : hex;
  } catch {
    return '';
  }
}

function nanos(value: unknown): bigint {
  try {
    if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.round(value));
  } catch {
    // fall through
  }
  return 0n;
}

/** Nanoseconds to milliseconds, exact to the microsecond (a double cannot hold epoch nanoseconds). */
function nanosToMs(value: bigint): number {
  return Number(value / 1000n) / 1000;
}

function kind(value: unknown): ViewSpanKind {
  if (typeof value === 'number') return KINDS[value] ?? 'unspecified';
  if (typeof value === 'string') {
    const name = value.replace(/^SPAN_KIND_/, '').toLowerCase();
    return (KINDS as readonly string[]).includes(name) ? (name as ViewSpanKind) : 'unspecified';
  }
  return 'unspecified';
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
