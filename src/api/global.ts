import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import { NoopTracer } from './noop.js';
import type { ContextSource } from './reference.js';
import type { SpanContext } from './span-context.js';
import type { Span, TagValue } from './span.js';
import { Tracer, type ActiveSpanOptions, type SpanOptions } from './tracer.js';

const noopTracer = new NoopTracer();
let current: Tracer = noopTracer;

/**
 * Always forwards to whichever tracer is registered now, so code that took `globalTracer()`
 * before the agent (or the user) called `initGlobalTracer()` still reaches the real tracer.
 */
class GlobalTracerDelegate extends Tracer {
  override get scopeManager(): ScopeManager {
    return current.scopeManager;
  }
  override get sampler(): Sampler {
    return current.sampler;
  }
  override get propagator(): TextMapPropagator {
    return current.propagator;
  }
  override get resource(): Readonly<Record<string, TagValue>> {
    return current.resource;
  }
  override activeSpan(): Span | null {
    return current.activeSpan();
  }
  override startSpan(name: string, options?: SpanOptions): Span {
    return current.startSpan(name, options);
  }
  override startActiveSpan(name: string, optionsOrFn?: unknown, fn?: unknown): never {
    return (current.startActiveSpan as (n: string, o?: unknown, f?: unknown) => never)(name, optionsOrFn, fn);
  }
  override inject(ctx: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter?: CarrierSetter): void {
    current.inject(ctx, format, carrier, setter);
  }
  override extract(format: string, carrier: unknown, getter?: CarrierGetter): SpanContext | null {
    return current.extract(format, carrier, getter);
  }
  override flush(): Promise<void> {
    return current.flush();
  }
  override close(): Promise<void> {
    return current.close();
  }
}

const delegate = new GlobalTracerDelegate();

/** The process-wide tracer: a no-op until `initGlobalTracer()` is called (the agent calls it). */
export function globalTracer(): Tracer {
  return delegate;
}

/** Makes `tracer` the process-wide tracer that `globalTracer()` forwards to. */
export function initGlobalTracer(tracer: Tracer): void {
  current = tracer instanceof Tracer && tracer !== delegate ? tracer : noopTracer;
}

export type { ActiveSpanOptions, Scope };
