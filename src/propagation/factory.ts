import { CompositePropagator } from './composite.js';
import type { TextMapPropagator } from '../api/propagator.js';

export { PROPAGATOR_NAMES } from './names.js';

// A format's code is required only when it is configured (B3 and Jaeger are off by default). Each require
// names its file literally: the start bundle (scripts/bundle-start.mjs) resolves those when it is written, so
// the default formats, held in it, cost no resolve (a stat and a package.json lookup each) at start.
function build(name: string): TextMapPropagator | null {
  switch (name) {
    case 'tracecontext': {
      const { W3CTraceContextPropagator } = require('./w3c-trace-context.js') as typeof import('./w3c-trace-context.js');
      return new W3CTraceContextPropagator();
    }
    case 'baggage': {
      const { W3CBaggagePropagator } = require('./w3c-baggage.js') as typeof import('./w3c-baggage.js');
      return new W3CBaggagePropagator();
    }
    case 'b3':
    case 'b3multi': {
      const { B3Propagator } = require('./b3.js') as typeof import('./b3.js');
      return new B3Propagator({ single: name === 'b3' });
    }
    case 'jaeger': {
      const { JaegerPropagator } = require('./jaeger.js') as typeof import('./jaeger.js');
      return new JaegerPropagator();
    }
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
