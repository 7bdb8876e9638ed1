import { CompositePropagator } from './composite.js';
import type { TextMapPropagator } from './propagator.js';
import { W3CBaggagePropagator } from './w3c-baggage.js';
import { W3CTraceContextPropagator } from './w3c-trace-context.js';

/** Names accepted in `TRACING_PROPAGATION`. */
export const PROPAGATOR_NAMES: readonly string[] = ['tracecontext', 'baggage'];

/** Builds one propagator from format names, in the order given. Unknown names are skipped. */
export function createPropagator(names: readonly string[]): TextMapPropagator {
  const list: TextMapPropagator[] = [];
  for (const name of names) {
    if (name === 'tracecontext') list.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') list.push(new W3CBaggagePropagator());
  }
  return new CompositePropagator(list);
}
