/**
 * @acme/tracing-agent — the OpenTracing-style API. Importing this module has no side effects;
 * the zero-code agent is `@acme/tracing-agent/register`.
 */
export { Tracer, type TracerOptions, type TracerConstructor } from './tracer.js';
export type { SpanOptions, ActiveSpanOptions } from './api/tracer.js';
export { Span, recordError, type TagValue, type LogRecord } from './api/span.js';
export { SpanContext, FLAG_SAMPLED, FLAG_RANDOM, type Baggage } from './api/span-context.js';
export { Reference, childOf, followsFrom, type ContextSource } from './api/reference.js';
export { FORMAT_BINARY, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP, BinaryCarrier, type Format } from './api/formats.js';
export { Tags, REFERENCE_CHILD_OF, REFERENCE_FOLLOWS_FROM } from './api/tags.js';
export { globalTracer, initGlobalTracer } from './api/global.js';
export { NoopTracer } from './api/noop.js';
export type { Scope, ScopeManager } from './api/scope-manager.js';
export { AsyncLocalScopeManager } from './scope/async-local.js';
export { StackScopeManager } from './scope/stack.js';
export type { Sampler } from './api/sampler.js';
export { AlwaysOnSampler, AlwaysOffSampler, ParentBasedSampler } from './sampling/sampler.js';
export type { TextMapPropagator } from './api/propagator.js';
export { defaultGetter, defaultSetter, type CarrierGetter, type CarrierSetter } from './api/carrier.js';
export { W3CTraceContextPropagator } from './propagation/w3c-trace-context.js';
export { W3CBaggagePropagator } from './propagation/w3c-baggage.js';
export { CompositePropagator } from './propagation/composite.js';
export type { SpanProcessor } from './api/span-processor.js';
export type { SpanExporter } from './export/span-processor.js';
export { SimpleSpanProcessor, MultiSpanProcessor, NoopSpanProcessor } from './export/span-processor.js';
export { InMemorySpanExporter } from './export/memory.js';
export { ConsoleSpanExporter } from './export/console.js';
export { defineInstrumentation, type Instrumentation, type InstrumentationContext, type ModuleTarget } from './agent/instrumentation.js';
export { registerInstrumentation } from './agent/register-instrumentation.js';
