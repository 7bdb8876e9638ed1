// What both OTLP decoders (protobuf and JSON) share once they have read a span: the rules that
// turn OTLP into a ViewSpan (kind names, error flag, service name) and the checks that make a span
// invalid (rejected and counted in partialSuccess, never stored).
import type { ViewAttribute, ViewSpan, ViewSpanKind, ViewValue } from './model.js';

const KIND_NAMES: readonly ViewSpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const KIND_BY_ENUM_NAME: Readonly<Record<string, ViewSpanKind>> = {
  SPAN_KIND_UNSPECIFIED: 'unspecified',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};

/** OTLP `Status.StatusCode.STATUS_CODE_ERROR`. */
export const STATUS_ERROR = 2;

/** `service.name` when a resource has none, as the OpenTelemetry specification spells it. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** An OTLP SpanKind (number, or enum name as OTLP/JSON senders may write it) → our name. */
export function kindName(kind: unknown): ViewSpanKind {
  if (typeof kind === 'number') return KIND_NAMES[kind] ?? 'unspecified';
  if (typeof kind === 'string') return KIND_BY_ENUM_NAME[kind] ?? (/^\d+$/.test(kind) ? (KIND_NAMES[Number(kind)] ?? 'unspecified') : 'unspecified');
  return 'unspecified';
}

/** The kind's OTLP enum number (for the OTLP JSON download). */
export function kindNumber(kind: ViewSpanKind): number {
  const n = KIND_NAMES.indexOf(kind);
  return n < 0 ? 0 : n;
}

/** `service.name` of a resource, or `unknown_service`. */
export function serviceOf(resource: readonly ViewAttribute[]): string {
  for (const a of resource) if (a.key === 'service.name' && typeof a.value === 'string' && a.value !== '') return a.value;
  return UNKNOWN_SERVICE;
}

/** OpenTracing marks errors with an `error=true` tag; OTLP with a status. Either makes a span an error. */
export function hasErrorAttribute(attributes: readonly ViewAttribute[]): boolean {
  for (const a of attributes) if (a.key === 'error' && (a.value === true || a.value === 'true')) return true;
  return false;
}

const HEX_32 = /^[0-9a-f]{32}$/;
const HEX_16 = /^[0-9a-f]{16}$/;
const ZERO_32 = '0'.repeat(32);
const ZERO_16 = '0'.repeat(16);

/**
 * Why a decoded span cannot be stored, or null when it can. Ids must be the right length and not
 * all zeros (the OTLP specification calls those invalid); a missing or zero parent means a root.
 * Normalises `parentSpanId` of all zeros to ''.
 */
export function invalidReason(span: ViewSpan): string | null {
  if (!HEX_32.test(span.traceId) || span.traceId === ZERO_32) return `invalid traceId "${clip(span.traceId)}"`;
  if (!HEX_16.test(span.spanId) || span.spanId === ZERO_16) return `invalid spanId "${clip(span.spanId)}" in trace ${span.traceId}`;
  if (span.parentSpanId === ZERO_16) span.parentSpanId = '';
  else if (span.parentSpanId !== '' && !HEX_16.test(span.parentSpanId)) return `invalid parentSpanId "${clip(span.parentSpanId)}" of span ${span.spanId}`;
  return null;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** An attribute value as text, as the `tag=key=value` filter compares it. */
export function valueText(v: ViewValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Nanoseconds since the epoch (exact decimal string) → milliseconds as a fractional number. */
export function nanosToMs(nanos: string): number {
  // Split so both parts stay exact doubles: ms = whole milliseconds + the sub-millisecond fraction.
  const n = nanos.length;
  if (n <= 6) return Number(nanos) / 1e6;
  return Number(nanos.slice(0, n - 6)) + Number(nanos.slice(n - 6)) / 1e6;
}

/** end − start in milliseconds, exactly to the nanosecond, never negative (clock skew between hosts). */
export function durationMsOf(startNanos: string, endNanos: string): number {
  if (startNanos.length < 16 && endNanos.length < 16) return Math.max(0, (Number(endNanos) - Number(startNanos)) / 1e6);
  const d = BigInt(endNanos) - BigInt(startNanos);
  return d > 0n ? Number(d) / 1e6 : 0;
}
