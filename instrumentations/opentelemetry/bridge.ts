import type * as otel from '@opentelemetry/api';
import { nonRecordingSpan, SpanContext, type Span, type Tracer } from '../../src/agent/instrumentation.js';
import { BAGGAGE_KEY, SPAN_KEY } from './context.js';
import { BridgeBaggage, baggageToRecord, sameBaggage } from './baggage.js';
import { BridgeSpan, INVALID_CONTEXT, toOurContext } from './span.js';

/**
 * The mapping between OpenTelemetry's view (contexts holding spans and baggage) and ours (a span
 * active in our scope manager, baggage on its span context), shared by the tracer provider, the
 * context manager and the propagator.
 */
export class SpanBridge {
  // Spans that are not ours (a remote parent, `trace.wrapSpanContext`) → the non-recording span of
  // ours that stands for them in our scope manager.
  private readonly stand = new WeakMap<object, Span>();
  // OpenTelemetry baggage set on a context → the stand-in carrying it for a span of ours.
  private readonly withBaggage = new WeakMap<object, { span: Span; carrier: Span }>();

  constructor(readonly tracer: Tracer) {}

  /**
   * The OpenTelemetry face of a span of ours (made on first use, for spans the agent started). Each
   * span has at most one, kept on the span itself (`_face`), so `getActiveSpan()` is stable.
   */
  face(span: Span, kind = 0, localServer: Span | null = null): BridgeSpan {
    const f = span._face;
    if (f instanceof BridgeSpan && f.span === span) return f;
    const made = new BridgeSpan(span, kind, localServer);
    span._face = made;
    return made;
  }

  /** The face a span already has, if any (no allocation). */
  existingFace(span: Span): BridgeSpan | undefined {
    const f = span._face;
    return f instanceof BridgeSpan && f.span === span ? f : undefined;
  }

  /** A non-recording span of ours that carries `context` (a remote parent, a foreign span's context). */
  standIn(context: SpanContext): Span {
    return nonRecordingSpan(this.tracer, context);
  }

  /** The OpenTelemetry face of a context extracted from a carrier. */
  remote(context: SpanContext): BridgeSpan {
    return this.face(this.standIn(context));
  }

  /** A non-recording span with the invalid context (tracing suppressed). */
  invalid(): BridgeSpan {
    return this.face(this.standIn(INVALID_CONTEXT));
  }

  /**
   * The span of ours to make active (or to use as parent) for an OpenTelemetry context: its span's,
   * a stand-in for a span that is not ours, null for none. When the context's baggage differs from
   * that span's, a stand-in with the same ids carries the context's baggage, so our spans started
   * under it (and the headers our client instrumentations inject) carry it too.
   */
  spanFor(ctx: otel.Context): Span | null {
    let span = this.spanOnly(ctx);
    const baggage = ctx.getValue(BAGGAGE_KEY) as otel.Baggage | undefined;
    if (span === null || baggage === undefined || baggage === null || typeof baggage !== 'object') return span;
    if (baggage instanceof BridgeBaggage && baggage.source === span.context().baggage) return span;
    const cached = this.withBaggage.get(baggage);
    if (cached !== undefined && cached.span === span) return cached.carrier;
    const record = baggageToRecord(baggage);
    if (sameBaggage(record, span.context().baggage)) return span;
    const carrier = this.standIn(span.context().withBaggage(record));
    this.withBaggage.set(baggage, { span, carrier });
    span = carrier;
    return span;
  }

  /** The span context to inject for an OpenTelemetry context (with its baggage); null when it has no valid span. */
  contextToInject(ctx: otel.Context): SpanContext | null {
    const span = this.spanFor(ctx);
    if (span === null) return null;
    const c = span.context();
    return c === INVALID_CONTEXT ? null : c;
  }

  private spanOnly(ctx: otel.Context): Span | null {
    const value = ctx.getValue(SPAN_KEY) as otel.Span | undefined;
    if (value === undefined || value === null || typeof value !== 'object') return null;
    if (value instanceof BridgeSpan) return value.span.context() === INVALID_CONTEXT ? null : value.span;
    let span = this.stand.get(value);
    if (span !== undefined) return span;
    let sc: otel.SpanContext;
    try {
      sc = value.spanContext();
    } catch {
      return null;
    }
    const ours = toOurContext(sc);
    if (ours === null) return null;
    span = this.standIn(ours);
    this.stand.set(value, span);
    return span;
  }
}
