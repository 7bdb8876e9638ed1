import type * as otel from '@opentelemetry/api';
import { isTracingSuppressed, type TagValue } from '../../src/agent/instrumentation.js';
import type { SpanBridge } from './bridge.js';
import type { BridgeContextManager } from './context-manager.js';
import { isSuppressedContext, SPAN_KEY } from './context.js';
import { BridgeSpan, handRouteUp, isOurServerSpan, isRouteKey, linkRecord } from './span.js';

const ROUTE_KEYS = ['http.route', 'next.route'] as const;
import { setSpanAttribute, toEpochMs } from './values.js';

// OpenTelemetry SpanKind (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4) → our `span.kind` tag.
const KIND_TAGS: ReadonlyArray<Readonly<Record<string, TagValue>> | undefined> = [
  undefined,
  Object.freeze({ 'span.kind': 'server' }),
  Object.freeze({ 'span.kind': 'client' }),
  Object.freeze({ 'span.kind': 'producer' }),
  Object.freeze({ 'span.kind': 'consumer' }),
];

/**
 * `trace.getTracer(name, version)`: starts our spans, remembering the instrumentation scope so the
 * exporters group them under it. Sampling is our sampler's (parent-based on the agent's settings).
 */
export class BridgeTracer implements otel.Tracer {
  constructor(
    private readonly bridge: SpanBridge,
    private readonly contextManager: BridgeContextManager,
    private readonly scopeName: string,
    private readonly scopeVersion: string,
  ) {}

  startSpan(name: string, options?: otel.SpanOptions, ctx?: otel.Context): otel.Span {
    const context = ctx !== undefined && ctx !== null && typeof ctx.getValue === 'function' ? ctx : this.contextManager.active();
    // As the OpenTelemetry SDK: under suppressTracing a span is a non-recording one with no valid context.
    if (isSuppressedContext(context) || isTracingSuppressed()) return this.bridge.invalid();
    const opts: otel.SpanOptions = options !== null && typeof options === 'object' ? options : {};
    const parent = opts.root === true ? null : this.bridge.spanFor(context);
    const kind = typeof opts.kind === 'number' && opts.kind >= 0 && opts.kind <= 4 ? opts.kind : 0;
    const span = this.bridge.tracer.startSpan(String(name), {
      childOf: parent,
      ignoreActiveSpan: true,
      startTime: toEpochMs(opts.startTime),
      tags: KIND_TAGS[kind],
    });
    if (span.isRecording()) {
      span._extras = { scopeName: this.scopeName, scopeVersion: this.scopeVersion, links: null, statusCode: 0, statusMessage: '' };
      const attributes = opts.attributes;
      if (attributes !== null && typeof attributes === 'object') {
        for (const key of Object.keys(attributes)) setSpanAttribute(span, key, attributes[key]);
      }
      if (Array.isArray(opts.links)) {
        for (const link of opts.links) {
          const record = link !== null && typeof link === 'object' ? linkRecord(link) : null;
          if (record !== null) (span._extras.links ??= []).push(record);
        }
      }
    }
    const localServer = parent === null ? null : isOurServerSpan(parent) ? parent : (this.bridge.existingFace(parent)?.localServer ?? null);
    const face = this.bridge.face(span, kind, localServer);
    // A route among the start attributes goes up as one set later would.
    const attributes = opts.attributes;
    if (localServer !== null && attributes !== null && typeof attributes === 'object') {
      for (const key of ROUTE_KEYS) {
        const route = attributes[key];
        if (typeof route === 'string' && isRouteKey(key, kind)) handRouteUp(localServer, route);
      }
    }
    return face;
  }

  startActiveSpan<F extends (span: otel.Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    let options: otel.SpanOptions | undefined;
    let ctx: otel.Context | undefined;
    let fn: F;
    if (rest.length < 1) return undefined as ReturnType<F>;
    if (rest.length === 1) fn = rest[0] as F;
    else if (rest.length === 2) {
      options = rest[0] as otel.SpanOptions;
      fn = rest[1] as F;
    } else {
      options = rest[0] as otel.SpanOptions;
      ctx = rest[1] as otel.Context;
      fn = rest[2] as F;
    }
    const parentContext = ctx !== undefined && ctx !== null && typeof ctx.getValue === 'function' ? ctx : this.contextManager.active();
    const span = this.startSpan(name, options, parentContext);
    return this.contextManager.with(parentContext.setValue(SPAN_KEY, span), fn as (s: otel.Span) => ReturnType<F>, undefined, span);
  }
}

/** The tracer provider the agent registers: one tracer per instrumentation scope. */
export class BridgeTracerProvider implements otel.TracerProvider {
  private readonly tracers = new Map<string, BridgeTracer>();

  constructor(
    private readonly bridge: SpanBridge,
    private readonly contextManager: BridgeContextManager,
  ) {}

  getTracer(name: string, version?: string, _options?: otel.TracerOptions): otel.Tracer {
    const n = typeof name === 'string' ? name : '';
    const v = typeof version === 'string' ? version : '';
    const key = `${n}\0${v}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      // The agent's own scope name is for its own spans; an unnamed tracer is still told apart.
      tracer = new BridgeTracer(this.bridge, this.contextManager, n === '' ? 'unknown' : n, v);
      this.tracers.set(key, tracer);
    }
    return tracer;
  }
}

export { BridgeSpan };
