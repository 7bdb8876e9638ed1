// Builds ViewSpans for the page tests.
import type { ViewSpan } from '../../../src/viewer/model.js';

let next = 1;

/** A fresh 16-hex-digit span id. */
export function spanId(): string {
  return (next++).toString(16).padStart(16, '0');
}

/** A span with sensible defaults; `parent` is a span or a parent span id. */
export function viewSpan(traceId: string, name: string, fields: Partial<ViewSpan> & { parent?: ViewSpan | string } = {}): ViewSpan {
  const { parent, ...rest } = fields;
  const startMs = rest.startMs ?? 1_700_000_000_000;
  const durationMs = rest.durationMs ?? 10;
  const service = rest.service ?? 'svc';
  return {
    traceId,
    spanId: spanId(),
    parentSpanId: typeof parent === 'string' ? parent : parent?.spanId ?? '',
    name,
    kind: 'internal',
    service,
    startMs,
    durationMs,
    startTimeUnixNano: `${Math.round(startMs * 1000)}000`,
    endTimeUnixNano: `${Math.round((startMs + durationMs) * 1000)}000`,
    error: false,
    statusMessage: '',
    attributes: [],
    events: [],
    links: [],
    resource: [{ key: 'service.name', value: service }],
    scope: { name: 'test', version: '1.0.0' },
    ...rest,
  };
}
