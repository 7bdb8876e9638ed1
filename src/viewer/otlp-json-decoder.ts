// Decodes an OTLP/JSON `ExportTraceServiceRequest` into ViewSpans, accepting everything the OTLP
// specification and the protobuf JSON mapping allow, so any sender works: ids as hex (any case),
// enums as numbers or names, 64-bit integers as strings or numbers, doubles as numbers or
// "NaN"/"Infinity", bytes as base64, lowerCamelCase or original snake_case field names.
import type { ViewAttribute, ViewEvent, ViewLink, ViewSpan, ViewValue } from './model.js';
import { intern, internShort } from './intern.js';
import type { DecodedRequest } from './otlp-protobuf-decoder.js';
import { durationMsOf, hasErrorAttribute, kindName, nanosToMs, serviceOf, STATUS_ERROR } from './view-span.js';

/** The body is not an OTLP/JSON request (bad JSON, or the wrong shape where structure is expected). */
export class MalformedJson extends Error {
  override readonly name = 'MalformedJson';
}

const MAX_VALUE_DEPTH = 32;
type Json = Record<string, unknown>;

/** The request object of a JSON body (traces or logs, already gunzipped); throws `MalformedJson`. */
export function parseJsonRequest(body: Buffer): Json {
  let parsed: unknown;
  try {
    // A UTF-8 byte-order mark is not JSON, but some Windows tools write one.
    const start = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    parsed = JSON.parse(body.toString('utf8', start));
  } catch (err) {
    throw new MalformedJson(`invalid JSON: ${(err as Error).message}`);
  }
  return objectOf(parsed, 'request');
}

/** The attributes of a `resourceSpans`/`resourceLogs` entry's resource, and the service they name. */
export function resourceOf(entry: Json): { resource: ViewAttribute[]; service: string } {
  const resourceObj = field(entry, 'resource', 'resource');
  const resource = resourceObj === undefined || resourceObj === null ? [] : attributesOf(objectOf(resourceObj, 'resource'), 'attributes', 'attributes');
  return { resource, service: serviceOf(resource) };
}

/** Decodes a JSON body (already gunzipped); throws `MalformedJson` when it is not a request. */
export function decodeOtlpJson(body: Buffer): DecodedRequest {
  const spans: ViewSpan[] = [];
  for (const rs of listOf(parseJsonRequest(body), 'resourceSpans', 'resource_spans')) {
    const resourceSpans = objectOf(rs, 'resourceSpans[]');
    const { resource, service } = resourceOf(resourceSpans);
    for (const ss of listOf(resourceSpans, 'scopeSpans', 'scope_spans', 'instrumentationLibrarySpans')) {
      const scopeSpans = objectOf(ss, 'scopeSpans[]');
      const scopeObj = field(scopeSpans, 'scope', 'scope') ?? field(scopeSpans, 'instrumentationLibrary', 'instrumentation_library');
      const scopeJson = scopeObj === undefined || scopeObj === null ? {} : objectOf(scopeObj, 'scope');
      const scope = { name: stringOf(field(scopeJson, 'name', 'name')), version: stringOf(field(scopeJson, 'version', 'version')) };
      for (const s of listOf(scopeSpans, 'spans', 'spans')) spans.push(spanOf(objectOf(s, 'spans[]'), resource, service, scope));
    }
  }
  return { spans };
}

function spanOf(s: Json, resource: ViewAttribute[], service: string, scope: { name: string; version: string }): ViewSpan {
  const attributes = attributesOf(s, 'attributes', 'attributes');
  const status = field(s, 'status', 'status');
  const statusJson = typeof status === 'object' && status !== null ? (status as Json) : {};
  const statusCode = field(statusJson, 'code', 'code');
  const startTimeUnixNano = nanosOf(field(s, 'startTimeUnixNano', 'start_time_unix_nano'));
  const endTimeUnixNano = nanosOf(field(s, 'endTimeUnixNano', 'end_time_unix_nano'));
  return {
    traceId: idOf(field(s, 'traceId', 'trace_id')),
    spanId: idOf(field(s, 'spanId', 'span_id')),
    parentSpanId: idOf(field(s, 'parentSpanId', 'parent_span_id')),
    name: intern(stringOf(field(s, 'name', 'name'))),
    kind: kindName(field(s, 'kind', 'kind')),
    service,
    startMs: nanosToMs(startTimeUnixNano),
    durationMs: durationMsOf(startTimeUnixNano, endTimeUnixNano),
    startTimeUnixNano,
    endTimeUnixNano,
    error: statusCode === STATUS_ERROR || statusCode === 'STATUS_CODE_ERROR' || statusCode === '2' || hasErrorAttribute(attributes),
    statusMessage: stringOf(field(statusJson, 'message', 'message')),
    attributes,
    events: listOf(s, 'events', 'events').map((e) => eventOf(objectOf(e, 'events[]'))),
    links: listOf(s, 'links', 'links').map((l) => linkOf(objectOf(l, 'links[]'))),
    resource,
    scope,
  };
}

function eventOf(e: Json): ViewEvent {
  return { timeMs: nanosToMs(nanosOf(field(e, 'timeUnixNano', 'time_unix_nano'))), name: stringOf(field(e, 'name', 'name')), attributes: attributesOf(e, 'attributes', 'attributes') };
}

function linkOf(l: Json): ViewLink {
  return { traceId: idOf(field(l, 'traceId', 'trace_id')), spanId: idOf(field(l, 'spanId', 'span_id')), attributes: attributesOf(l, 'attributes', 'attributes') };
}

export function attributesOf(owner: Json, camel: string, snake: string): ViewAttribute[] {
  return listOf(owner, camel, snake).map((kv) => keyValueOf(kv, 0));
}

function keyValueOf(kv: unknown, depth: number): ViewAttribute {
  const o = objectOf(kv, 'KeyValue');
  const value = field(o, 'value', 'value');
  return { key: intern(stringOf(field(o, 'key', 'key'))), value: value === undefined || value === null ? null : anyValueOf(value, depth) };
}

export function anyValueOf(v: unknown, depth: number): ViewValue {
  if (depth > MAX_VALUE_DEPTH) throw new MalformedJson(`attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  const o = objectOf(v, 'AnyValue');
  let x = field(o, 'stringValue', 'string_value');
  if (x !== undefined) return internShort(stringOf(x));
  x = field(o, 'boolValue', 'bool_value');
  if (x !== undefined) return x === true || x === 'true';
  x = field(o, 'intValue', 'int_value');
  if (x !== undefined) return intOf(x);
  x = field(o, 'doubleValue', 'double_value');
  if (x !== undefined) return typeof x === 'number' ? x : Number(x);
  x = field(o, 'arrayValue', 'array_value');
  if (x !== undefined) return x === null ? [] : listOf(objectOf(x, 'arrayValue'), 'values', 'values').map((item) => anyValueOf(item, depth + 1));
  x = field(o, 'kvlistValue', 'kvlist_value');
  if (x !== undefined) {
    const out: { [key: string]: ViewValue } = Object.create(null);
    if (x !== null) for (const item of listOf(objectOf(x, 'kvlistValue'), 'values', 'values')) {
      const kv = keyValueOf(item, depth + 1);
      out[kv.key] = kv.value;
    }
    return out;
  }
  x = field(o, 'bytesValue', 'bytes_value');
  if (x !== undefined) return stringOf(x);
  return null;
}

export function field(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

export function objectOf(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedJson(`${what} must be an object`);
  return v as Json;
}

export function listOf(o: Json, camel: string, snake: string, legacy?: string): unknown[] {
  let v = field(o, camel, snake);
  if (v === undefined && legacy !== undefined) v = o[legacy];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedJson(`${camel} must be an array`);
  return v;
}

export function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

const BASE64_ID = /^[A-Za-z0-9+/]{22}==$|^[A-Za-z0-9+/]{11}=$/;

/**
 * Ids are hex in OTLP/JSON (any case). Some senders use the generic protobuf JSON mapping, which
 * writes bytes as base64; the lengths tell the two apart (a 16-byte id is 32 hex or 24 base64
 * characters, an 8-byte id 16 or 12), so those ids are accepted too.
 */
export function idOf(v: unknown): string {
  if (typeof v !== 'string') return '';
  if (BASE64_ID.test(v)) return Buffer.from(v, 'base64').toString('hex');
  return v.toLowerCase();
}

/** int64 as a number when exact, else the decimal string (values stay exact, as the sender wrote them). */
export function intOf(v: unknown): number | string {
  if (typeof v === 'number') return v;
  const s = stringOf(v);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/** A uint64 nanosecond time as an exact decimal string ('0' when absent or not a number). */
export function nanosOf(v: unknown): string {
  if (typeof v === 'string') return /^\d{1,20}$/.test(v) ? v.replace(/^0+(?=\d)/, '') : '0';
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Number.isSafeInteger(v) ? String(v) : BigInt(Math.trunc(v)).toString();
  return '0';
}
