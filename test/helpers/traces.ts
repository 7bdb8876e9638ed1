import type { Collector, ReceivedSpan } from './collector.js';

/** OTLP span kinds as numbers. */
export const KIND = { server: 2, client: 3 } as const;

let traceCounter = 0;
/** A fresh valid W3C trace id for one scenario, so its spans can be picked out of the collector. */
export function newTraceId(): string {
  traceCounter++;
  return (process.pid.toString(16) + Date.now().toString(16) + traceCounter.toString(16).padStart(6, '0')).padStart(32, 'a').slice(-32);
}

/** The spans of one trace, in arrival order. */
export function spansOf(spans: readonly ReceivedSpan[], traceId: string): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId);
}

/**
 * Waits (bounded) until the spans of `traceId` the collector holds, deduplicated by span id, are
 * complete: `done` says so, or there are at least `done` of them. Returns what arrived by then, so the
 * test's own assertions say what is missing.
 */
export async function traceOf(collector: Collector, traceId: string, done: number | ((spans: ReceivedSpan[]) => boolean), timeoutMs = 10_000): Promise<ReceivedSpan[]> {
  const complete = typeof done === 'number' ? (spans: ReceivedSpan[]) => spans.length >= done : done;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = [...new Map(spansOf(collector.spans, traceId).map((s) => [s.spanId, s])).values()];
    if (complete(spans) || Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The span ids above `span`, nearest first (stops at a missing parent or a cycle). */
export function ancestors(spans: readonly ReceivedSpan[], span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: string[] = [];
  for (let p = byId.get(span.parentSpanId); p !== undefined && !chain.includes(p.spanId); p = byId.get(p.parentSpanId)) chain.push(p.spanId);
  return chain;
}
