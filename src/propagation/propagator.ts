import type { SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';

/**
 * Reads and writes one header format. `extract` returns `null` for a missing or invalid
 * context and never throws; `inject` writes only valid contexts.
 */
export interface TextMapPropagator {
  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void;
  /**
   * `into` is the context extracted so far by earlier propagators (or null); formats that
   * only carry baggage add to it, formats that carry ids return a new context.
   */
  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null;
  /** The header names this propagator reads and writes (lower-case). */
  fields(): readonly string[];
}
