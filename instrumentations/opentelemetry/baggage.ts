import type * as otel from '@opentelemetry/api';
import { createBaggage, getBaggageProperties, setBaggageProperties, type Baggage } from '../../src/agent/instrumentation.js';

// The API marks entry metadata with this symbol (`baggageEntryMetadataFromString`).
const METADATA_TYPE = Symbol.for('BaggageEntryMetadata');

function metadata(text: string): otel.BaggageEntryMetadata {
  return { __TYPE__: METADATA_TYPE, toString: () => text } as unknown as otel.BaggageEntryMetadata;
}

/**
 * OpenTelemetry's `Baggage` over a map of entries, immutable as the API's own. One made from our
 * baggage remembers that record (`source`), so a context holding it maps back without a copy.
 */
export class BridgeBaggage implements otel.Baggage {
  constructor(
    private readonly entries: ReadonlyMap<string, otel.BaggageEntry>,
    readonly source: Baggage | null = null,
  ) {}

  getEntry(key: string): otel.BaggageEntry | undefined {
    const e = this.entries.get(key);
    return e === undefined ? undefined : { ...e };
  }

  getAllEntries(): [string, otel.BaggageEntry][] {
    return [...this.entries].map(([k, e]) => [k, { ...e }]);
  }

  setEntry(key: string, entry: otel.BaggageEntry): otel.Baggage {
    const next = new Map(this.entries);
    next.set(key, entry);
    return new BridgeBaggage(next);
  }

  removeEntry(key: string): otel.Baggage {
    const next = new Map(this.entries);
    next.delete(key);
    return new BridgeBaggage(next);
  }

  removeEntries(...keys: string[]): otel.Baggage {
    const next = new Map(this.entries);
    for (const k of keys) next.delete(k);
    return new BridgeBaggage(next);
  }

  clear(): otel.Baggage {
    return new BridgeBaggage(new Map());
  }
}

const fromRecordCache = new WeakMap<object, BridgeBaggage>();

/** Our baggage (a span context's items) as OpenTelemetry baggage; cached per record (records never change). */
export function baggageFromRecord(record: Baggage): BridgeBaggage {
  let b = fromRecordCache.get(record);
  if (b !== undefined) return b;
  const props = getBaggageProperties(record);
  const entries = new Map<string, otel.BaggageEntry>();
  for (const key of Object.keys(record)) {
    const p = props === undefined ? undefined : props[key];
    entries.set(key, p === undefined ? { value: record[key]! } : { value: record[key]!, metadata: metadata(p) });
  }
  b = new BridgeBaggage(entries, record);
  fromRecordCache.set(record, b);
  return b;
}

/** Any OpenTelemetry baggage as our record (items and W3C properties); null when it holds nothing. */
export function baggageToRecord(baggage: otel.Baggage): Baggage | null {
  if (baggage instanceof BridgeBaggage && baggage.source !== null) return baggage.source;
  let entries: [string, otel.BaggageEntry][];
  try {
    entries = baggage.getAllEntries();
  } catch {
    return null;
  }
  if (!Array.isArray(entries) || entries.length === 0) return null;
  const record = createBaggage();
  let props: Record<string, string> | null = null;
  for (const [key, entry] of entries) {
    if (typeof key !== 'string' || entry === null || typeof entry !== 'object' || typeof entry.value !== 'string') continue;
    record[key] = entry.value;
    const meta = entry.metadata === undefined ? '' : String(entry.metadata);
    if (meta !== '') (props ??= Object.create(null) as Record<string, string>)[key] = meta;
  }
  if (props !== null) setBaggageProperties(record, props);
  return record;
}

/** True when two baggage records hold the same items. */
export function sameBaggage(a: Baggage | null, b: Baggage | null): boolean {
  if (a === b) return true;
  const ak = a === null ? [] : Object.keys(a);
  const bk = b === null ? [] : Object.keys(b);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (b === null || a![k] !== b[k]) return false;
  return true;
}
