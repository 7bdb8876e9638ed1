import { defaultGetter, defaultSetter } from '../../../src/api/carrier.js';
import { createPropagator } from '../../../src/propagation/factory.js';
import type { SpanContext } from '../../../src/api/span-context.js';

/** Extracts with the formats named, from a carrier of headers (arrays for repeated headers). */
export function extract(names: string | readonly string[], carrier: unknown): SpanContext | null {
  return createPropagator(typeof names === 'string' ? [names] : names).extract(carrier, defaultGetter, null);
}

/** Injects with the formats named into a fresh plain object and returns it. */
export function inject(names: string | readonly string[], ctx: SpanContext): Record<string, string> {
  const out: Record<string, string> = {};
  createPropagator(typeof names === 'string' ? [names] : names).inject(ctx, out, defaultSetter);
  return out;
}

export const TRACE = '0af7651916cd43dd8448eb211c80319c';
export const SPAN = 'b7ad6b7169203331';
export const PARENT = `00-${TRACE}-${SPAN}-01`;
