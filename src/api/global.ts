import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';
import type { ContextSource } from './reference.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import type { SpanContext } from './span-context.js';
import type { Span, TagValue } from './span.js';
import type { ActiveSpanOptions, SpanOptions, Tracer } from './tracer.js';

// The no-op tracer and the check of what `initGlobalTracer` is given are loaded at their first use, not
// with this module: the agent loads it at start (to register its tracer) and its start loads as little as
// it can (docs/performance.md, "Start-up").
let noopTracer: Tracer | null = null;
let current: Tracer | null = null;
// The agent's tracer, built by this function at the first call that needs a tracer (see
// `initGlobalTracerOnFirstUse`); null once built, or when a tracer was given directly.
let pending: (() => Tracer) | null = null;

function noop(): Tracer {
  if (noopTracer === null) {
    const { NoopTracer } = require('./noop.js') as typeof import('./noop.js');
    noopTracer = new NoopTracer();
  }
  return noopTracer;
}

/** The registered tracer now: the pending one built first, the no-op tracer when there is none. */
function tracerNow(): Tracer {
  if (pending !== null) {
    const build = pending;
    pending = null;
    initGlobalTracer(build());
  }
  return current ?? noop();
}

/**
 * Always forwards to whichever tracer is registered now, so code that took `globalTracer()`
 * before the agent (or the user) called `initGlobalTracer()` still reaches the real tracer.
 */
class GlobalTracerDelegate implements Tracer {
  get scopeManager(): ScopeManager {
    return tracerNow().scopeManager;
  }
  get sampler(): Sampler {
    return tracerNow().sampler;
  }
  get propagator(): TextMapPropagator {
    return tracerNow().propagator;
  }
  get resource(): Readonly<Record<string, TagValue>> {
    return tracerNow().resource;
  }
  activeSpan(): Span | null {
    return tracerNow().activeSpan();
  }
  startSpan(name: string, options?: SpanOptions): Span {
    return tracerNow().startSpan(name, options);
  }
  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan(name: string, optionsOrFn?: unknown, fn?: unknown): unknown {
    return (tracerNow().startActiveSpan as (n: string, o?: unknown, f?: unknown) => unknown)(name, optionsOrFn, fn);
  }
  inject(ctx: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter?: CarrierSetter): void {
    tracerNow().inject(ctx, format, carrier, setter);
  }
  extract(format: string, carrier: unknown, getter?: CarrierGetter): SpanContext | null {
    return tracerNow().extract(format, carrier, getter);
  }
  flush(): Promise<void> {
    return tracerNow().flush();
  }
  close(): Promise<void> {
    return tracerNow().close();
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
  pending = null;
  const { isTracer } = require('./tracer.js') as typeof import('./tracer.js');
  current = isTracer(tracer) && tracer !== delegate ? tracer : noop();
}

/**
 * Registers the tracer `build` returns as the process-wide tracer, built at the first call that needs
 * one (a method of `globalTracer()`) unless something builds it sooner. The agent registers its tracer
 * this way: a process that starts no span never builds it (docs/performance.md, "Start-up").
 * `initGlobalTracer()` called before then wins, and `build` is not called by this module.
 */
export function initGlobalTracerOnFirstUse(build: () => Tracer): void {
  pending = build;
}

export type { ActiveSpanOptions, Scope };
