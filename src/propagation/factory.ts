import { CompositePropagator } from './composite.js';
import type { TextMapPropagator } from '../api/propagator.js';

export { PROPAGATOR_NAMES } from './names.js';

// A format's code is required only when it is configured (B3 and Jaeger are off by default).
const load = <T>(file: string): T => require(file) as T;

function build(name: string): TextMapPropagator | null {
  switch (name) {
    case 'tracecontext':
      return new (load<typeof import('./w3c-trace-context.js')>('./w3c-trace-context.js').W3CTraceContextPropagator)();
    case 'baggage':
      return new (load<typeof import('./w3c-baggage.js')>('./w3c-baggage.js').W3CBaggagePropagator)();
    case 'b3':
      return new (load<typeof import('./b3.js')>('./b3.js').B3Propagator)({ single: true });
    case 'b3multi':
      return new (load<typeof import('./b3.js')>('./b3.js').B3Propagator)({ single: false });
    case 'jaeger':
      return new (load<typeof import('./jaeger.js')>('./jaeger.js').JaegerPropagator)();
    default:
      return null;
  }
}

/**
 * Builds one propagator from format names, in the order given: extraction takes the first valid
 * trace context in that order, injection writes every format. Names are matched without regard to
 * case or surrounding spaces; repeats count once; unknown names (and `none`) add nothing.
 */
export function createPropagator(names: readonly string[]): TextMapPropagator {
  const seen = new Set<string>();
  const list: TextMapPropagator[] = [];
  for (const raw of names) {
    if (typeof raw !== 'string') continue;
    const name = raw.trim().toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    const p = build(name);
    if (p !== null) list.push(p);
  }
  return new CompositePropagator(list);
}
