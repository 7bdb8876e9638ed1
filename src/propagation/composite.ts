import type { SpanContext } from '../api/span-context.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';

/**
 * Several formats as one: `inject` writes every format; `extract` asks each in order and keeps
 * the first valid trace context, while baggage-only formats add their items to it.
 */
export class CompositePropagator implements TextMapPropagator {
  private readonly propagators: readonly TextMapPropagator[];
  private readonly allFields: readonly string[];

  constructor(propagators: readonly TextMapPropagator[]) {
    this.propagators = propagators;
    this.allFields = [...new Set(propagators.flatMap((p) => p.fields()))];
  }

  fields(): readonly string[] {
    return this.allFields;
  }

  inject(context: SpanContext, carrier: unknown, setter: CarrierSetter): void {
    for (const p of this.propagators) p.inject(context, carrier, setter);
  }

  extract(carrier: unknown, getter: CarrierGetter, into: SpanContext | null): SpanContext | null {
    let ctx = into;
    for (const p of this.propagators) {
      const next = p.extract(carrier, getter, ctx);
      // A later id-carrying format must not replace the context an earlier one found.
      if (ctx === null || next === null || next.traceId === ctx.traceId) ctx = next ?? ctx;
    }
    return ctx;
  }
}
