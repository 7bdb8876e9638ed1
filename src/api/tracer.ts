import { CompositePropagator } from '../propagation/composite.js';
import { defaultGetter, defaultSetter, type CarrierGetter, type CarrierSetter } from './carrier.js';
import { extractBinary, injectBinary } from './binary-format.js';
import type { TextMapPropagator } from './propagator.js';
import { W3CBaggagePropagator } from '../propagation/w3c-baggage.js';
import { W3CTraceContextPropagator } from '../propagation/w3c-trace-context.js';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler } from '../sampling/sampler.js';
import type { Sampler } from './sampler.js';
import { AsyncLocalScopeManager } from '../scope/async-local.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import { NoopSpanProcessor } from '../export/span-processor.js';
import type { SpanProcessor } from './span-processor.js';
import { nowMs } from '../util/clock.js';
import { guard } from '../util/log.js';
import { idPool, type IdPool } from '../util/ids.js';
import { FORMAT_BINARY, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP } from './formats.js';
import { isContextSource, type ContextSource, type Reference } from './reference.js';
import { FLAG_RANDOM, FLAG_SAMPLED, SpanContext } from './span-context.js';
import { recordError, Span, type TagValue } from './span.js';
import { REFERENCE_CHILD_OF, REFERENCE_FOLLOWS_FROM, Tags } from './tags.js';

/** Options of `startSpan` and `startActiveSpan`, named as in OpenTracing. */
export interface SpanOptions {
  /** The parent: a span or a span context. Wins over the active span. */
  childOf?: Span | SpanContext | ContextSource | null;
  /** `childOf(...)`/`followsFrom(...)` references; the first `child_of` (else the first reference) is the parent. */
  references?: readonly Reference[];
  tags?: Readonly<Record<string, TagValue>>;
  /** Milliseconds since the epoch. */
  startTime?: number;
  /** Start a root span even when a span is active. */
  ignoreActiveSpan?: boolean;
}

/** Options of `startActiveSpan`. */
export interface ActiveSpanOptions extends SpanOptions {
  /** Finish the span when the scope closes (default true). */
  finishOnClose?: boolean;
}

/** What builds a tracer. Everything is optional; the defaults trace every request in memory only. */
export interface TracerOptions {
  /** Receives finished, sampled spans (default: drops them). */
  processor?: SpanProcessor;
  /** Default: parent-based, recording every new trace. */
  sampler?: Sampler;
  /** Default: `AsyncLocalScopeManager`. */
  scopeManager?: ScopeManager;
  /** Used for `http_headers` and `text_map` (default: W3C Trace Context + W3C Baggage). */
  propagator?: TextMapPropagator;
  /** Describes the process: `service.name` and the like; read by exporters. */
  resource?: Readonly<Record<string, TagValue>>;
}

/**
 * Starts spans, keeps the active one, and moves contexts in and out of carriers.
 * The OpenTracing `Tracer`, in TypeScript; accepted by `opentracing.initGlobalTracer()`.
 */
export class Tracer {
  private readonly _resource: Readonly<Record<string, TagValue>>;
  private readonly _scopeManager: ScopeManager;
  private readonly _sampler: Sampler;
  private readonly _propagator: TextMapPropagator;
  private _processor: SpanProcessor;
  private readonly _samplerReadsTraceId: boolean;

  constructor(options: TracerOptions = {}) {
    this._scopeManager = options.scopeManager ?? new AsyncLocalScopeManager();
    this._sampler = options.sampler ?? new ParentBasedSampler(new AlwaysOnSampler());
    this._propagator = options.propagator ?? new CompositePropagator([new W3CTraceContextPropagator(), new W3CBaggagePropagator()]);
    this._processor = options.processor ?? new NoopSpanProcessor();
    this._samplerReadsTraceId = readsTraceId(this._sampler);
    this._resource = Object.freeze({ ...(options.resource ?? {}) });
  }

  /** Describes the process (service name, version, host); exporters send it with every batch. */
  get resource(): Readonly<Record<string, TagValue>> {
    return this._resource;
  }

  /** Keeps the active span; see `ScopeManager`. */
  get scopeManager(): ScopeManager {
    return this._scopeManager;
  }

  /** The sampler deciding which new traces are recorded. */
  get sampler(): Sampler {
    return this._sampler;
  }

  /** The propagator used for `http_headers` and `text_map`. */
  get propagator(): TextMapPropagator {
    return this._propagator;
  }

  /** The active span, or null. */
  activeSpan(): Span | null {
    const scope = this._scopeManager.active();
    return scope === null ? null : scope.span;
  }

  /**
   * Starts a span. Its parent is `childOf`, else the first reference, else the active span
   * (unless `ignoreActiveSpan`), else none: a new trace.
   */
  startSpan(name: string, options?: SpanOptions): Span {
    let parent: SpanContext | null = null;
    let links: Reference[] | null = null;
    let explicit = false;
    if (options !== undefined && options !== null) {
      if (options.childOf !== undefined && options.childOf !== null) {
        explicit = true;
        parent = toContext(options.childOf);
      }
      const refs = options.references;
      if (Array.isArray(refs) && refs.length > 0) {
        explicit = true;
        let firstFollows: SpanContext | null = null;
        for (const ref of refs as readonly Reference[]) {
          const ctx = referenceContext(ref);
          if (ctx === null) continue;
          const type = ref.type();
          if (type === REFERENCE_CHILD_OF && parent === null) {
            parent = ctx;
            continue;
          }
          if (type === REFERENCE_FOLLOWS_FROM && firstFollows === null) firstFollows = ctx;
          (links ??= []).push(ref);
        }
        if (parent === null) parent = firstFollows;
      }
    }
    if (!explicit && options?.ignoreActiveSpan !== true) {
      const scope = this._scopeManager.active();
      if (scope !== null) parent = scope.span.context();
    }
    const tags = options?.tags;
    // A new trace's id stays bytes unless the sampler reads it (a ratio sampler).
    let tracePool: IdPool | null = null;
    let traceAt = 0;
    let traceId = '';
    if (parent === null) {
      tracePool = idPool(16);
      traceAt = tracePool.take(16);
      if (this._samplerReadsTraceId) traceId = tracePool.hex(traceAt, 16);
    } else if (this._samplerReadsTraceId) {
      traceId = parent.traceId;
    }
    let sampled = this._sampler.shouldSample(parent, traceId, name, tags);
    const priority = tags === undefined || tags === null ? undefined : tags[Tags.SAMPLING_PRIORITY];
    if (typeof priority === 'number') sampled = priority > 0;

    let flags: number;
    if (parent === null) flags = FLAG_RANDOM | (sampled ? FLAG_SAMPLED : 0);
    else flags = sampled ? parent.traceFlags | FLAG_SAMPLED : parent.traceFlags & ~FLAG_SAMPLED;
    const spanPool = idPool(8);
    const context = SpanContext._local(parent, tracePool, traceAt, spanPool, spanPool.take(8), flags);
    // A non-recording span is never exported, so it skips the clock read.
    const start = typeof options?.startTime === 'number' ? options.startTime : sampled ? nowMs() : 0;
    const span = new Span(this, String(name), context, parent, start, sampled, links);
    if (sampled && tags !== undefined && tags !== null) span.addTags(tags);
    return span;
  }

  /**
   * Starts a span and makes it active.
   * Without `fn`: returns the `Scope`; close it (or `using` it) when done.
   * With `fn`: runs `fn(span)` with the span active and finishes the span when `fn` returns or its
   * promise settles; a throw or rejection marks the span as an error and passes through unchanged.
   */
  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan<T>(
    name: string,
    optionsOrFn?: ActiveSpanOptions | ((span: Span) => T),
    maybeFn?: (span: Span) => T,
  ): Scope | T {
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    const options = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
    const span = this.startSpan(name, options);
    if (typeof fn !== 'function') return this._scopeManager.activate(span, options?.finishOnClose !== false);
    let result: T;
    try {
      result = this._scopeManager.run(span, () => fn(span));
    } catch (err) {
      recordError(span, err);
      span.finish();
      throw err;
    }
    if (isPromise(result)) {
      // Observe the promise without changing what the caller gets back: same object, same rejection.
      result.then(
        () => span.finish(),
        (err: unknown) => {
          recordError(span, err);
          span.finish();
        },
      );
      return result;
    }
    span.finish();
    return result;
  }

  /**
   * Writes `spanOrContext` into `carrier` in `format` (`http_headers`, `text_map` or `binary`).
   * Unknown formats and foreign contexts are ignored; never throws.
   */
  inject(spanOrContext: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter: CarrierSetter = defaultSetter): void {
    guard('inject', () => {
      if (spanOrContext === null || spanOrContext === undefined) return;
      const ctx = toContext(spanOrContext);
      if (ctx === null) return;
      if (format === FORMAT_HTTP_HEADERS || format === FORMAT_TEXT_MAP) this._propagator.inject(ctx, carrier, setter);
      else if (format === FORMAT_BINARY) injectBinary(ctx, carrier);
    }, undefined);
  }

  /**
   * Reads a span context from `carrier`; `null` when it holds none, or an invalid one. Never throws.
   */
  extract(format: string, carrier: unknown, getter: CarrierGetter = defaultGetter): SpanContext | null {
    return guard('extract', () => {
      if (format === FORMAT_HTTP_HEADERS || format === FORMAT_TEXT_MAP) return this._propagator.extract(carrier, getter, null);
      if (format === FORMAT_BINARY) return extractBinary(carrier);
      return null;
    }, null);
  }

  /** Sends every finished span that is still queued. Never rejects. */
  flush(): Promise<void> {
    return this._processor.forceFlush().catch(() => undefined);
  }

  /** Flushes, then stops exporting; spans finished afterwards are dropped. Never rejects. */
  close(): Promise<void> {
    const processor = this._processor;
    this._processor = new NoopSpanProcessor();
    return processor.shutdown().catch(() => undefined);
  }

  /** @internal Called by `Span.finish()` for recording spans. */
  _spanFinished(span: Span): void {
    guard('span processor', () => this._processor.onEnd(span), undefined);
  }
}

/**
 * Whether `sampler` may read the trace id it is given. The agent's own always-on, always-off and
 * parent-based samplers over them do not, so spans of a new trace never turn its id into hex (they
 * get '' instead); any other sampler, a user's included, gets the id.
 */
function readsTraceId(sampler: Sampler): boolean {
  const type = sampler.constructor;
  if (type === AlwaysOnSampler || type === AlwaysOffSampler) return false;
  if (type === ParentBasedSampler) return readsTraceId((sampler as ParentBasedSampler).root);
  return true;
}

function toContext(value: Span | SpanContext | ContextSource): SpanContext | null {
  if (value instanceof SpanContext) return value;
  if (value instanceof Span) return value.context();
  if (isContextSource(value)) {
    const ctx = value.context();
    return ctx instanceof SpanContext ? ctx : null;
  }
  return null;
}

function referenceContext(ref: Reference): SpanContext | null {
  if (ref === null || typeof ref !== 'object' || typeof ref.referencedContext !== 'function' || typeof ref.type !== 'function') return null;
  const ctx = ref.referencedContext();
  return ctx instanceof SpanContext ? ctx : null;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}
