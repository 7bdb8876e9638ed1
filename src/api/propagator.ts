import type { SpanContext } from './span-context.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';

/**
 * Reads and writes one header format. `extract` returns `null` for a missing or invalid
 * context and never throws; `inject` writes only valid contexts.
 */
export interface TextMapPropagator {
  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void;
  /**
   * `into` is the context extracted so far by earlier propagators (or null). A format that carries
   * ids returns `into` unchanged when it is not null (the first valid context wins), or may add its
   * baggage to it; a baggage-only format adds its items to `into` and returns null when it is null.
   */
  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null;
  /** The header names this propagator reads and writes (lower-case). */
  fields(): readonly string[];
  /** True for formats that carry baggage but no trace ids; a composite runs them last. */
  readonly baggageOnly?: boolean;
}
