import type { LogRecordData } from '../agent/instrumentation.js';
import type { ArrayElement, Attribute, AttributeValue } from './span-model.js';

/** A log record ready to encode: attributes flattened to OTLP scalars and arrays of scalars. */
export interface MappedLogRecord {
  timeMs: number;
  /** When the agent saw the record (OTLP `observed_time_unix_nano`). */
  observedMs: number;
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: readonly Attribute[];
  /** '' when the record was written outside a trace. */
  traceId: string;
  spanId: string;
  traceFlags: number;
  scope: string;
}

/** Attributes per record at most; more are dropped (a record is not a database). */
const MAX_ATTRIBUTES = 128;
/** Items of an array attribute at most; more are dropped. */
const MAX_ARRAY = 128;
/** Longest attribute value or body kept, in characters. */
const MAX_TEXT = 16 * 1024;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * Maps a logger's record to what OTLP carries: strings, numbers and booleans as they are, an array of
 * those (and nulls) as an array value, anything else nested as its JSON text (collectors index flat
 * attributes; nested maps are rarely queryable), `undefined`, functions and symbols left out, long
 * values cut.
 */
export function mapLogRecord(record: LogRecordData, observedMs: number): MappedLogRecord {
  const attributes: Attribute[] = [];
  const fields = record.attributes;
  for (const key of Object.keys(fields)) {
    if (attributes.length >= MAX_ATTRIBUTES) break;
    const value = attributeValue(fields[key]);
    if (value !== undefined) attributes.push({ key, value });
  }
  const traced = HEX32.test(record.traceId) && HEX16.test(record.spanId);
  return {
    timeMs: Number.isFinite(record.timeMs) && record.timeMs > 0 ? record.timeMs : observedMs,
    observedMs,
    severityNumber: Number.isInteger(record.severityNumber) && record.severityNumber >= 0 && record.severityNumber <= 24 ? record.severityNumber : 0,
    severityText: cut(String(record.severityText)),
    body: cut(String(record.body)),
    attributes,
    traceId: traced ? record.traceId : '',
    spanId: traced ? record.spanId : '',
    traceFlags: traced ? record.traceFlags & 0xff : 0,
    scope: String(record.scope),
  };
}

function attributeValue(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return cut(value);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        const items = scalarItems(value);
        if (items !== null) return items;
      }
      try {
        const text = JSON.stringify(value);
        return text === undefined ? undefined : cut(text);
      } catch {
        return '[unserializable]';
      }
    default:
      return undefined;
  }
}

/**
 * The array's items when every one is a string, number, boolean, null or undefined (a hole, kept as
 * null); else null. At most MAX_ARRAY items and MAX_TEXT characters of strings in all: the rest is cut.
 */
function scalarItems(value: readonly unknown[]): ArrayElement[] | null {
  const items: ArrayElement[] = [];
  let text = 0;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean' && item !== null && item !== undefined) return null;
    if (items.length >= MAX_ARRAY || text >= MAX_TEXT) continue;
    if (typeof item === 'string') {
      const kept = item.length > MAX_TEXT - text ? `${item.slice(0, MAX_TEXT - text)}…` : item;
      text += item.length;
      items.push(kept);
    } else items.push(item === undefined ? null : item);
  }
  return items;
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
