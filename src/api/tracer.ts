import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';
import type { ContextSource, Reference } from './reference.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import type { SpanContext } from './span-context.js';
import { recordError, type Span, type TagValue } from './span.js';

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

/**
 * Starts spans, keeps the active one, and moves contexts in and out of carriers: the OpenTracing
 * `Tracer`, in TypeScript, accepted by `opentracing.initGlobalTracer()`. Implemented by the tracer
 * `new Tracer(options)` builds (the agent's), by `NoopTracer`, and by what `globalTracer()` returns.
 */
export interface Tracer {
  /** Describes the process (service name, version, host); exporters send it with every batch. */
  readonly resource: Readonly<Record<string, TagValue>>;
  /** Keeps the active span; see `ScopeManager`. */
  readonly scopeManager: ScopeManager;
  /** The sampler deciding which new traces are recorded. */
  readonly sampler: Sampler;
  /** The propagator used for `http_headers` and `text_map`. */
  readonly propagator: TextMapPropagator;
  /** The active span, or null. */
  activeSpan(): Span | null;
  /**
   * Starts a span. Its parent is `childOf`, else the first reference, else the active span
   * (unless `ignoreActiveSpan`), else none: a new trace.
   */
  startSpan(name: string, options?: SpanOptions): Span;
  /**
   * Starts a span and makes it active.
   * Without `fn`: returns the `Scope`; close it (or `using` it) when done.
   * With `fn`: runs `fn(span)` with the span active and finishes the span when `fn` returns or its
   * promise settles; a throw or rejection marks the span as an error and passes through unchanged.
   */
  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  /**
   * Writes `spanOrContext` into `carrier` in `format` (`http_headers`, `text_map` or `binary`).
   * Unknown formats and foreign contexts are ignored; never throws.
   */
  inject(spanOrContext: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter?: CarrierSetter): void;
  /** Reads a span context from `carrier`; `null` when it holds none, or an invalid one. Never throws. */
  extract(format: string, carrier: unknown, getter?: CarrierGetter): SpanContext | null;
  /** Sends every finished span that is still queued. Never rejects. */
  flush(): Promise<void>;
  /** Flushes, then stops exporting; spans finished afterwards are dropped. Never rejects. */
  close(): Promise<void>;
}

const TRACER_METHODS = ['activeSpan', 'startSpan', 'startActiveSpan', 'inject', 'extract', 'flush', 'close'] as const;

/** Whether `value` has every method of `Tracer` and a scope manager (what `initGlobalTracer` accepts). */
export function isTracer(value: unknown): value is Tracer {
  if (value === null || typeof value !== 'object') return false;
  for (const method of TRACER_METHODS) if (typeof (value as Record<string, unknown>)[method] !== 'function') return false;
  return typeof (value as Tracer).scopeManager === 'object' && (value as Tracer).scopeManager !== null;
}

/**
 * `startActiveSpan` of every tracer here, on `tracer.startSpan` and `tracer.scopeManager`: one
 * place for the overloads and for finishing the span when `fn` returns or its promise settles.
 */
export function startActiveSpanOn<T>(
  tracer: Tracer,
  name: string,
  optionsOrFn: ActiveSpanOptions | ((span: Span) => T) | undefined,
  maybeFn: ((span: Span) => T) | undefined,
): Scope | T {
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
  const span = tracer.startSpan(name, options);
  const scopeManager = tracer.scopeManager;
  if (typeof fn !== 'function') return scopeManager.activate(span, options?.finishOnClose !== false);
  let result: T;
  try {
    result = scopeManager.run(span, () => fn(span));
  } catch (err) {
    recordError(span, err);
    span.finish();
    throw err;
  }
  if (result instanceof Promise) {
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
