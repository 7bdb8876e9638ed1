import type * as otel from '@opentelemetry/api';
import { defaultGetter, type CarrierGetter, type CarrierSetter } from '../../src/agent/instrumentation.js';
import type { SpanBridge } from './bridge.js';
import { BAGGAGE_KEY, isSuppressedContext, SPAN_KEY } from './context.js';
import { baggageFromRecord } from './baggage.js';
import { validIds } from './span.js';

/**
 * OpenTelemetry's propagator over ours: `propagation.inject/extract` write and read the formats the
 * agent is configured with (`TRACING_PROPAGATORS`: W3C Trace Context and Baggage by default, B3,
 * Jaeger), exactly as our own instrumentations do.
 */
export class BridgePropagator implements otel.TextMapPropagator {
  constructor(private readonly bridge: SpanBridge) {}

  inject(ctx: otel.Context, carrier: unknown, setter: otel.TextMapSetter): void {
    // As OpenTelemetry's W3C propagators: nothing is written under suppressTracing.
    if (ctx === null || typeof ctx !== 'object' || isSuppressedContext(ctx)) return;
    const sc = this.bridge.contextToInject(ctx);
    if (sc === null || carrier === null || carrier === undefined) return;
    const to: CarrierSetter = typeof setter?.set === 'function' ? { set: (c, k, v) => setter.set(c, k, v) } : { set: (c, k, v) => void ((c as Record<string, string>)[k] = v) };
    this.bridge.tracer.propagator.inject(sc, carrier, to);
  }

  extract(ctx: otel.Context, carrier: unknown, getter: otel.TextMapGetter): otel.Context {
    if (ctx === null || typeof ctx !== 'object' || carrier === null || carrier === undefined) return ctx;
    const from: CarrierGetter = typeof getter?.get === 'function'
      ? {
        // The caller's getter first; ours reads the carriers it cannot (fetch Headers, any key case).
        get: (c, name) => getter.get(c, name) ?? defaultGetter.get(c, name),
        keys: (c) => (typeof getter.keys === 'function' ? getter.keys(c) : defaultGetter.keys(c)),
      }
      : defaultGetter;
    const sc = this.bridge.tracer.propagator.extract(carrier, from, null);
    if (sc === null) return ctx;
    let out = ctx;
    if (validIds(sc.traceId, sc.spanId)) out = out.setValue(SPAN_KEY, this.bridge.remote(sc));
    if (sc.baggage !== null && Object.keys(sc.baggage).length > 0) out = out.setValue(BAGGAGE_KEY, baggageFromRecord(sc.baggage));
    return out;
  }

  fields(): string[] {
    return [...this.bridge.tracer.propagator.fields()];
  }
}
