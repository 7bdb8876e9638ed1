import type { SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
import type { TextMapPropagator } from '../api/propagator.js';

/**
 * Several formats as one. `inject` writes every format. `extract` asks the id-carrying formats in
 * the order given and keeps the first valid trace context; baggage-only formats then add their items
 * to it, wherever they stand in the list.
 */
export class CompositePropagator implements TextMapPropagator {
  private readonly propagators: readonly TextMapPropagator[];
  private readonly extractors: readonly TextMapPropagator[];
  private readonly allFields: readonly string[];

  constructor(propagators: readonly TextMapPropagator[]) {
    this.propagators = propagators;
    this.extractors = [...propagators.filter((p) => p.baggageOnly !== true), ...propagators.filter((p) => p.baggageOnly === true)];
    this.allFields = [...new Set(propagators.flatMap((p) => p.fields()))];
  }

  fields(): readonly string[] {
    return this.allFields;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    const list = this.propagators;
    for (let i = 0; i < list.length; i++) list[i]!.inject(context, carrier, setter);
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    let ctx = into;
    const list = this.extractors;
    for (let i = 0; i < list.length; i++) {
      const next = list[i]!.extract(carrier, getter, ctx);
      // Once a context is found, a later format may add baggage to it but never replace its ids,
      // whatever a propagator written elsewhere returns.
      if (ctx === null) ctx = next;
      else if (next !== null && next !== ctx && next.traceId === ctx.traceId && next.spanId === ctx.spanId) ctx = next;
    }
    return ctx;
  }
}
