import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { TextMapPropagator } from './propagator.js';
import type { ContextSource } from './reference.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import { SpanContext } from './span-context.js';
import { Span, type TagValue } from './span.js';
import { startActiveSpanOn, type ActiveSpanOptions, type SpanOptions, type Tracer } from './tracer.js';

const INVALID_CONTEXT = new SpanContext('00000000000000000000000000000000', '0000000000000000', 0);
const NO_RESOURCE: Readonly<Record<string, TagValue>> = Object.freeze({});

const NEVER_SAMPLE: Sampler = {
  readsTraceId: false,
  shouldSample: () => false,
  toString: () => 'always_off',
};

const NO_PROPAGATION: TextMapPropagator = {
  inject() {},
  extract: () => null,
  fields: () => [],
};

/** A scope that only remembers its span; closing it finishes the span when asked to. */
class NoopScope implements Scope {
  private closed = false;
  constructor(readonly span: Span, private readonly finishOnClose: boolean) {}
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.finishOnClose) this.span.finish();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Keeps no active span (`active()` is always null), as OpenTelemetry's API does before an SDK
 * registers a context manager: a no-op tracer has nothing to hand down. Callbacks still run.
 */
const NO_SCOPES: ScopeManager = {
  active: () => null,
  activate: (span, finishOnClose = true) => new NoopScope(span, finishOnClose),
  bind: (fn) => fn,
  run: (_span, fn) => fn(),
  newScope: (span) => new NoopScope(span, false),
  callIn: (_scope, fn, self, args) => fn.apply(self, args as unknown[]),
};

/**
 * A tracer that records nothing and propagates nothing: what `globalTracer()` returns until a
 * real tracer is registered. Every call is safe and cheap; `startActiveSpan(name, opts, fn)` still runs `fn`.
 */
export class NoopTracer implements Tracer {
  private readonly noopSpan: Span = Span.nonRecording(this, INVALID_CONTEXT);

  get resource(): Readonly<Record<string, TagValue>> {
    return NO_RESOURCE;
  }

  get scopeManager(): ScopeManager {
    return NO_SCOPES;
  }

  get sampler(): Sampler {
    return NEVER_SAMPLE;
  }

  get propagator(): TextMapPropagator {
    return NO_PROPAGATION;
  }

  activeSpan(): Span | null {
    return null;
  }

  startSpan(_name: string, _options?: SpanOptions): Span {
    return this.noopSpan;
  }

  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, optionsOrFn?: ActiveSpanOptions | ((span: Span) => T), maybeFn?: (span: Span) => T): Scope | T {
    return startActiveSpanOn(this, name, optionsOrFn, maybeFn);
  }

  inject(_ctx: Span | SpanContext | ContextSource | null | undefined, _format: string, _carrier: unknown, _setter?: CarrierSetter): void {}

  extract(_format: string, _carrier: unknown, _getter?: CarrierGetter): SpanContext | null {
    return null;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
