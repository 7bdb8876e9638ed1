import type { ViewSpan } from '../../../src/viewer/model.js';

/** A ViewSpan for store tests: ids from small numbers, times in ms. */
export function makeSpan(trace: number, span: number, opts: Partial<ViewSpan> & { parent?: number } = {}): ViewSpan {
  const startMs = opts.startMs ?? 1_700_000_000_000 + span;
  const durationMs = opts.durationMs ?? 10;
  const { parent, ...rest } = opts;
  return {
    traceId: trace.toString(16).padStart(32, '0'),
    spanId: span.toString(16).padStart(16, '0'),
    parentSpanId: parent === undefined ? '' : parent.toString(16).padStart(16, '0'),
    name: `op-${span}`,
    kind: 'internal',
    service: 'svc',
    startMs,
    durationMs,
    startTimeUnixNano: String(BigInt(Math.round(startMs * 1e6))),
    endTimeUnixNano: String(BigInt(Math.round((startMs + durationMs) * 1e6))),
    error: false,
    statusMessage: '',
    attributes: [],
    events: [],
    links: [],
    resource: [{ key: 'service.name', value: rest.service ?? 'svc' }],
    scope: { name: 'test', version: '1' },
    ...rest,
  };
}
