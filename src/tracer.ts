import { BasicTracer, type TracerParts } from './api/basic-tracer.js';
import type { TextMapPropagator } from './api/propagator.js';
import type { Sampler } from './api/sampler.js';
import type { ScopeManager } from './api/scope-manager.js';
import type { TagValue } from './api/span.js';
import type { SpanProcessor } from './api/span-processor.js';
import { isTracer, type Tracer as TracerInterface } from './api/tracer.js';
import { NoopSpanProcessor } from './export/span-processor.js';
import { CompositePropagator } from './propagation/composite.js';
import { W3CBaggagePropagator } from './propagation/w3c-baggage.js';
import { W3CTraceContextPropagator } from './propagation/w3c-trace-context.js';
import { AlwaysOnSampler, ParentBasedSampler } from './sampling/sampler.js';
import { AsyncLocalScopeManager } from './scope/async-local.js';

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

/** The one place the default parts are chosen, for users' tracers and the agent's alike. */
function withDefaults(options: TracerOptions): TracerParts {
  return {
    scopeManager: options.scopeManager ?? new AsyncLocalScopeManager(),
    sampler: options.sampler ?? new ParentBasedSampler(new AlwaysOnSampler()),
    propagator: options.propagator ?? new CompositePropagator([new W3CTraceContextPropagator(), new W3CBaggagePropagator()]),
    processor: options.processor ?? new NoopSpanProcessor(),
    resource: options.resource,
  };
}

// `Tracer` is both the interface every tracer implements (the type) and the constructor of the
// recording tracer (the value), as `Map` or `Promise` are in TypeScript's own library: code that
// types a variable `Tracer` accepts `globalTracer()` and `NoopTracer`, and `new Tracer()` still works.
const TracerClass = class Tracer extends BasicTracer {
  constructor(options: TracerOptions = {}) {
    super(withDefaults(options ?? {}));
  }

  // Before `Tracer` became an interface, the no-op tracer and the `globalTracer()` delegate were
  // subclasses, so `globalTracer() instanceof Tracer` held and user code checks it. `Tracer` itself
  // answers for every implementation of the interface; a user's subclass keeps the usual prototype test.
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TracerClass) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isTracer(value);
  }
};

/** Builds the recording tracer; `new Tracer(options)` does the same. */
export interface TracerConstructor {
  /**
   * A tracer that samples, records and hands finished spans to `options.processor`; every part
   * left out gets its default (see `TracerOptions`). The OpenTracing `Tracer`, in TypeScript,
   * accepted by `opentracing.initGlobalTracer()`.
   */
  new (options?: TracerOptions): Tracer;
  readonly prototype: Tracer;
}

/** Starts spans, keeps the active one, and moves contexts in and out of carriers; see `TracerConstructor`. */
export type Tracer = TracerInterface;
/** Builds the recording tracer: `new Tracer({ processor, sampler, scopeManager, propagator, resource })`. */
export const Tracer: TracerConstructor = TracerClass;

/** The tracer the agent starts with: its configured parts, the defaults for the rest. */
export function createTracer(options: TracerOptions = {}): Tracer {
  return new TracerClass(options);
}
