import type { CarrierGetter, CarrierSetter } from './carrier.js';
import { NoopTracer } from './noop.js';
import type { TextMapPropagator } from './propagator.js';
import type { ContextSource } from './reference.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import type { SpanContext } from './span-context.js';
import type { Span, TagValue } from './span.js';
import { isTracer, type ActiveSpanOptions, type SpanOptions, type Tracer } from './tracer.js';

const noopTracer = new NoopTracer();
let current: Tracer = noopTracer;

/**
 * Always forwards to whichever tracer is registered now, so code that took `globalTracer()`
 * before the agent (or the user) called `initGlobalTracer()` still reaches the real tracer.
 */
class GlobalTracerDelegate implements Tracer {
  get scopeManager(): ScopeManager {
    return current.scopeManager;
  }
  get sampler(): Sampler {
    return current.sampler;
  }
  get propagator(): TextMapPropagator {
    return current.propagator;
  }
  get resource(): Readonly<Record<string, TagValue>> {
    return current.resource;
  }
  activeSpan(): Span | null {
    return current.activeSpan();
  }
  startSpan(name: string, options?: SpanOptions): Span {
    return current.startSpan(name, options);
  }
  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan(name: string, optionsOrFn?: unknown, fn?: unknown): unknown {
    return (current.startActiveSpan as (n: string, o?: unknown, f?: unknown) => unknown)(name, optionsOrFn, fn);
  }
  inject(ctx: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter?: CarrierSetter): void {
    current.inject(ctx, format, carrier, setter);
  }
  extract(format: string, carrier: unknown, getter?: CarrierGetter): SpanContext | null {
    return current.extract(format, carrier, getter);
  }
  flush(): Promise<void> {
    return current.flush();
  }
  close(): Promise<void> {
    return current.close();
  }
}

const delegate = new GlobalTracerDelegate();

/** The process-wide tracer: a no-op until `initGlobalTracer()` is called (the agent calls it). */
export function globalTracer(): Tracer {
  return delegate;
}

/**
 * Makes `tracer` the process-wide tracer that `globalTracer()` forwards to. Anything that is not a
 * `Tracer` (every method, and a scope manager) puts the no-op tracer back.
 */
export function initGlobalTracer(tracer: Tracer): void {
  current = isTracer(tracer) && tracer !== delegate ? tracer : noopTracer;
}

export type { ActiveSpanOptions, Scope };
