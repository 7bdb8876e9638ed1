import type * as otel from '@opentelemetry/api';
import { FLAG_SAMPLED, SpanContext, type Span, type SpanExtras } from '../../src/agent/instrumentation.js';
import { BAGGAGE_KEY, ROOT, SPAN_KEY } from './context.js';
import { baggageFromRecord } from './baggage.js';
import { BridgeTraceState, copyAttributes, serializeTraceState, setSpanAttribute, toEpochMs } from './values.js';

const STATUS_UNSET = 0;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const KIND_SERVER = 1;

/**
 * One of our spans seen through the OpenTelemetry `Span` interface. Everything written lands on our
 * span; our span is what is exported. Spans the agent started itself (a request's server span) get one
 * too, so `trace.getActiveSpan().setAttribute(...)` inside a request writes onto the server span.
 */
export class BridgeSpan implements otel.Span {
  private _spanContext: otel.SpanContext | undefined;
  /** The context `context.active()` gives while this span is active and nothing else was set (cached). */
  _activeContext: otel.Context | undefined;
  /** The baggage record `_activeContext` was made with. */
  _activeBaggage: unknown;

  constructor(
    /** Our span. */
    readonly span: Span,
    /** OpenTelemetry SpanKind (0 internal … 4 consumer). */
    private readonly kind: number,
    /**
     * The agent's own server span of the request this span belongs to (started in it, directly or below
     * other OpenTelemetry spans); null outside a request. A route learnt here is the request's route.
     */
    readonly localServer: Span | null,
  ) {}

  spanContext(): otel.SpanContext {
    if (this._spanContext !== undefined) return this._spanContext;
    const c = this.span.context();
    const sc: otel.SpanContext = {
      traceId: c.traceId,
      spanId: c.spanId,
      // Only the sampled bit: code written for the OpenTelemetry SDK compares with TraceFlags.SAMPLED.
      traceFlags: c.traceFlags & FLAG_SAMPLED,
      isRemote: c.isRemote,
    };
    if (c.traceState !== '') sc.traceState = BridgeTraceState.parse(c.traceState);
    return (this._spanContext = sc);
  }

  setAttribute(key: string, value: otel.SpanAttributeValue): this {
    if (!this.isRecording()) return this;
    setSpanAttribute(this.span, key, value);
    if (this.localServer !== null && typeof value === 'string' && isRouteKey(key, this.kind)) handRouteUp(this.localServer, value);
    return this;
  }

  setAttributes(attributes: otel.SpanAttributes): this {
    if (!this.isRecording() || attributes === null || typeof attributes !== 'object') return this;
    for (const key of Object.keys(attributes)) this.setAttribute(key, attributes[key]!);
    return this;
  }

  addEvent(name: string, attributesOrTime?: otel.SpanAttributes | otel.TimeInput, time?: otel.TimeInput): this {
    if (!this.isRecording()) return this;
    let attributes: unknown = attributesOrTime;
    if (isTimeInput(attributesOrTime)) {
      time = attributesOrTime;
      attributes = undefined;
    }
    const fields: Record<string, unknown> = { event: String(name) };
    copyAttributes(attributes, fields);
    fields.event = String(name);
    this.span.log(fields, toEpochMs(time));
    return this;
  }

  addLink(link: otel.Link): this {
    if (!this.isRecording() || link === null || typeof link !== 'object') return this;
    const record = linkRecord(link);
    if (record !== null) ((this.extras().links ??= [])).push(record);
    return this;
  }

  addLinks(links: otel.Link[]): this {
    if (Array.isArray(links)) for (const l of links) this.addLink(l);
    return this;
  }

  setStatus(status: otel.SpanStatus): this {
    if (!this.isRecording() || status === null || typeof status !== 'object') return this;
    const extras = this.extras();
    // As the OpenTelemetry SDK: UNSET is ignored, OK is final.
    if (status.code === STATUS_UNSET || extras.statusCode === STATUS_OK) return this;
    if (status.code === STATUS_OK) {
      extras.statusCode = STATUS_OK;
      extras.statusMessage = '';
      const tags = this.span._writableTags();
      if (tags !== null) delete tags.error;
    } else if (status.code === STATUS_ERROR) {
      extras.statusCode = STATUS_ERROR;
      extras.statusMessage = typeof status.message === 'string' ? status.message : '';
      // Also our own error mark, which the console exporter and the viewer read.
      this.span.setTag('error', true);
    }
    return this;
  }

  updateName(name: string): this {
    if (this.isRecording()) this.span.setOperationName(String(name));
    return this;
  }

  end(endTime?: otel.TimeInput): void {
    this.span.finish(toEpochMs(endTime));
  }

  isRecording(): boolean {
    return this.span.isRecording() && !this.span.isFinished();
  }

  recordException(exception: otel.Exception, time?: otel.TimeInput): void {
    if (!this.isRecording()) return;
    // The attributes OpenTelemetry's SDK records (semantic conventions for exceptions).
    const fields: Record<string, unknown> = { event: 'exception' };
    if (typeof exception === 'string') fields['exception.message'] = exception;
    else if (exception !== null && typeof exception === 'object') {
      const e = exception as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
      if (e.code !== undefined && e.code !== null && e.code !== '') fields['exception.type'] = String(e.code);
      else if (typeof e.name === 'string') fields['exception.type'] = e.name;
      if (typeof e.message === 'string') fields['exception.message'] = e.message;
      if (typeof e.stack === 'string') fields['exception.stacktrace'] = e.stack;
    }
    if (fields['exception.type'] === undefined && fields['exception.message'] === undefined) return;
    this.span.log(fields, toEpochMs(time));
  }

  private extras(): SpanExtras {
    return (this.span._extras ??= { scopeName: '', scopeVersion: '', links: null, statusCode: STATUS_UNSET, statusMessage: '' });
  }

  /** @internal The OpenTelemetry kind given at start. */
  get otelKind(): number {
    return this.kind;
  }
}

function isTimeInput(v: unknown): v is otel.TimeInput {
  return typeof v === 'number' || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number');
}

/** An OpenTelemetry link as the record our exporters write; null for a link without a valid context. */
export function linkRecord(link: otel.Link): { traceId: string; spanId: string; traceState: string; attributes: Record<string, unknown> } | null {
  const c = link.context;
  if (c === null || typeof c !== 'object' || !validIds(c.traceId, c.spanId)) return null;
  return { traceId: c.traceId, spanId: c.spanId, traceState: serializeTraceState(c.traceState), attributes: copyAttributes(link.attributes, {}) };
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';

/** The API's `isSpanContextValid`: lower-case hex ids, not all zero. */
export function validIds(traceId: unknown, spanId: unknown): boolean {
  return typeof traceId === 'string' && typeof spanId === 'string' && TRACE_ID.test(traceId) && traceId !== INVALID_TRACE_ID && SPAN_ID.test(spanId) && spanId !== INVALID_SPAN_ID;
}

/** A span context of a span that is not ours (the API's `NonRecordingSpan`, another SDK's) as ours. */
export function toOurContext(sc: otel.SpanContext): SpanContext | null {
  if (sc === null || typeof sc !== 'object' || !validIds(sc.traceId, sc.spanId)) return null;
  const flags = typeof sc.traceFlags === 'number' ? sc.traceFlags & 0xff : 0;
  return new SpanContext(sc.traceId, sc.spanId, flags, serializeTraceState(sc.traceState), null, sc.isRemote === true);
}

/** The invalid span context (all-zero ids, not sampled): what a suppressed or failed start gets. */
export const INVALID_CONTEXT = new SpanContext(INVALID_TRACE_ID, INVALID_SPAN_ID, 0);

/**
 * Attributes that name the request's route: `http.route` on a SERVER span (the semantic convention),
 * and `next.route`, which Next.js sets on its render and route-handler spans while the request is
 * served (its request span only gets `http.route` after the response is sent, too late for ours).
 */
export function isRouteKey(key: string, kind: number): boolean {
  return key === 'next.route' || (key === 'http.route' && kind === KIND_SERVER);
}

/** Names our server span after a route an OpenTelemetry span of the request learnt. */
export function handRouteUp(server: Span, route: string): void {
  // A framework instrumentation of ours that already named the request keeps its name.
  if (!server.isRecording() || server.isFinished() || server.tags['http.route'] !== undefined) return;
  const method = server.tags['http.method'];
  server.setOperationName(typeof method === 'string' ? `${method} ${route}` : route);
  server.setTag('http.route', route);
}

/** True for our span of a request (the http instrumentation's server span, not one started through the API). */
export function isOurServerSpan(span: Span): boolean {
  return span._extras === null && span.isRecording() && !span.context().isRemote && span.tags['span.kind'] === 'server';
}

/** The context `context.active()` reports for a span of ours with nothing else set: the span and its baggage. */
export function activeContextOf(bridged: BridgeSpan): otel.Context {
  // Cached with the baggage it was made from: `setBaggageItem` gives the span a new record.
  const baggage = bridged.span.context().baggage;
  if (bridged._activeContext !== undefined && bridged._activeBaggage === baggage) return bridged._activeContext;
  let ctx = ROOT.setValue(SPAN_KEY, bridged);
  if (baggage !== null) ctx = ctx.setValue(BAGGAGE_KEY, baggageFromRecord(baggage));
  bridged._activeContext = ctx;
  bridged._activeBaggage = baggage;
  return ctx;
}
