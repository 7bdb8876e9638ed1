import type { TagValue } from '../api/span.js';
import type { ProtoWriter } from './protobuf-writer.js';
import type { ArrayElement, Attribute, AttributeValue } from './span-model.js';

// opentelemetry/proto/common/v1/common.proto, shared by the trace and the logs encoders (protobuf
// and JSON) so that an attribute is written the same way in a span, an event, a link, a resource
// and a log record.
const KEY_VALUE_KEY = 1;
const KEY_VALUE_VALUE = 2;
const ANY_STRING = 1;
const ANY_BOOL = 2;
const ANY_INT = 3;
const ANY_DOUBLE = 4;
const ANY_ARRAY = 5;
const ARRAY_VALUES = 1;

/** A `KeyValue` field. */
export function writeKeyValue(w: ProtoWriter, field: number, a: Attribute): void {
  const kv = w.begin(field);
  w.string(KEY_VALUE_KEY, a.key);
  writeAnyValue(w, KEY_VALUE_VALUE, a.value);
  w.end(kv);
}

/** A `KeyValue` field straight from a tag (no `Attribute` object). */
export function writeTag(w: ProtoWriter, field: number, key: string, v: TagValue): void {
  // Most tags: a short ASCII key with a short ASCII string value, written in one go.
  if (typeof v === 'string' ? w.asciiKeyStringValue(field, key, v) : typeof v === 'number' && w.asciiKeySmallIntValue(field, key, v)) return;
  const kv = w.begin(field);
  w.string(KEY_VALUE_KEY, key);
  // An array can sit among the tags of a span of ours written through the OpenTelemetry API.
  writeAnyValue(w, KEY_VALUE_VALUE, v as AttributeValue);
  w.end(kv);
}

/** An `AnyValue` field: string, bool, int64 (safe integers), double, or an array of those. */
export function writeAnyValue(w: ProtoWriter, field: number, v: AttributeValue | ArrayElement): void {
  const any = w.begin(field);
  if (typeof v === 'string') w.string(ANY_STRING, v);
  else if (typeof v === 'boolean') w.bool(ANY_BOOL, v);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) w.int64(ANY_INT, v);
    else w.double(ANY_DOUBLE, v);
  } else if (v !== null && Array.isArray(v)) {
    const arr = w.begin(ANY_ARRAY);
    for (const item of v) writeAnyValue(w, ARRAY_VALUES, item);
    w.end(arr);
  }
  // null (a hole in an array): an empty AnyValue, as OpenTelemetry's own encoder writes it.
  w.end(any);
}

/** An `AnyValue` in OTLP/JSON. */
export type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: JsonAnyValue[] } }
  | Record<string, never>;

/** A `KeyValue` in OTLP/JSON. */
export function jsonKeyValue(a: Attribute): { key: string; value: JsonAnyValue } {
  return { key: a.key, value: jsonAnyValue(a.value) };
}

/** An `AnyValue` in OTLP/JSON: 64-bit integers as decimal strings, as the OTLP/HTTP specification requires. */
export function jsonAnyValue(v: AttributeValue | ArrayElement): JsonAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (v === null) return {};
  if (typeof v !== 'number') return { arrayValue: { values: v.map(jsonAnyValue) } };
  if (Number.isSafeInteger(v)) return { intValue: String(v) };
  // proto3 JSON spells non-finite doubles as strings; JSON.stringify would write null.
  return { doubleValue: Number.isFinite(v) ? v : String(v) };
}
