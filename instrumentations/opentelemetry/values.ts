import type * as otel from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { nowMs, type Span } from '../../src/agent/instrumentation.js';

/**
 * OpenTelemetry's `TimeInput` in milliseconds since the epoch, as our spans keep time: an
 * `[seconds, nanoseconds]` pair, a `Date`, epoch milliseconds, or (a number before the process
 * started) a `performance.now()` reading, as the OpenTelemetry SDK reads them. Undefined when absent
 * or unreadable, so the span takes the current time.
 */
export function toEpochMs(time: otel.TimeInput | undefined): number | undefined {
  if (time === undefined || time === null) return undefined;
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) return undefined;
    return time < performance.timeOrigin ? time + (nowMs() - performance.now()) : time;
  }
  if (Array.isArray(time)) {
    const [s, ns] = time as [number, number];
    return typeof s === 'number' && typeof ns === 'number' ? s * 1e3 + ns / 1e6 : undefined;
  }
  if (time instanceof Date) {
    const ms = time.getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/**
 * A copy of an attribute value as OpenTelemetry accepts it (string, number, boolean, or an array of
 * them, holes allowed); undefined for anything else, which the SDK drops too.
 */
export function attributeValue(value: unknown): string | number | boolean | unknown[] | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      if (!Array.isArray(value)) return undefined;
      for (const item of value) {
        if (item !== null && item !== undefined && typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') return undefined;
      }
      // Copied: the caller may keep changing its array.
      return value.slice();
    default:
      return undefined;
  }
}

/** Writes one OpenTelemetry attribute onto a recording span (arrays included); ignores invalid ones. */
export function setSpanAttribute(span: Span, key: unknown, value: unknown): void {
  if (typeof key !== 'string' || key === '') return;
  const v = attributeValue(value);
  if (v === undefined) return;
  const tags = span._writableTags();
  // Arrays go into the tag store as they are: the exporters' mapping passes them on as arrays.
  if (tags !== null) (tags as Record<string, unknown>)[key] = v;
}

/** Copies valid attributes into a plain record (for events and links). */
export function copyAttributes(attributes: unknown, into: Record<string, unknown>): Record<string, unknown> {
  if (attributes === null || typeof attributes !== 'object') return into;
  for (const key of Object.keys(attributes)) {
    const v = attributeValue((attributes as Record<string, unknown>)[key]);
    if (v !== undefined) into[key] = v;
  }
  return into;
}

const TRACE_STATE_MEMBER = /^\s*([^=\s,]+)=([^,]*?)\s*$/;

/** The W3C `tracestate` header as OpenTelemetry's `TraceState`: immutable, newest key first. */
export class BridgeTraceState implements otel.TraceState {
  private constructor(private readonly members: ReadonlyArray<readonly [string, string]>) {}

  static parse(header: string): BridgeTraceState {
    const members: Array<readonly [string, string]> = [];
    for (const part of header.split(',')) {
      const m = TRACE_STATE_MEMBER.exec(part);
      if (m !== null && !members.some(([k]) => k === m[1])) members.push([m[1]!, m[2]!]);
    }
    return new BridgeTraceState(members);
  }

  set(key: string, value: string): otel.TraceState {
    return new BridgeTraceState([[key, value], ...this.members.filter(([k]) => k !== key)]);
  }

  unset(key: string): otel.TraceState {
    return new BridgeTraceState(this.members.filter(([k]) => k !== key));
  }

  get(key: string): string | undefined {
    for (const [k, v] of this.members) if (k === key) return v;
    return undefined;
  }

  serialize(): string {
    return this.members.map(([k, v]) => `${k}=${v}`).join(',');
  }
}

/** Reads a foreign `TraceState` (any implementation) as header text. */
export function serializeTraceState(state: otel.TraceState | undefined): string {
  if (state === undefined || state === null || typeof state.serialize !== 'function') return '';
  try {
    const text = state.serialize();
    return typeof text === 'string' ? text : '';
  } catch {
    return '';
  }
}
