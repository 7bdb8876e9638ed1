import { NoopSpanProcessor } from '../export/span-processor.js';
import { AlwaysOffSampler } from '../sampling/sampler.js';
import type { CarrierGetter, CarrierSetter } from './carrier.js';
import type { ContextSource } from './reference.js';
import { SpanContext } from './span-context.js';
import { Span } from './span.js';
import { Tracer, type SpanOptions } from './tracer.js';

const INVALID_CONTEXT = new SpanContext('00000000000000000000000000000000', '0000000000000000', 0);

/**
 * A tracer that records nothing and propagates nothing: what `globalTracer()` returns until a
 * real tracer is registered, and what the agent installs when tracing is disabled.
 * Every call is safe and cheap; `startActiveSpan(name, opts, fn)` still runs `fn`.
 */
export class NoopTracer extends Tracer {
  private readonly noopSpan: Span;

  constructor() {
    super({ sampler: new AlwaysOffSampler(), processor: new NoopSpanProcessor() });
    this.noopSpan = Span.nonRecording(this, INVALID_CONTEXT);
  }

  override startSpan(_name: string, _options?: SpanOptions): Span {
    return this.noopSpan;
  }

  override inject(_ctx: Span | SpanContext | ContextSource | null | undefined, _format: string, _carrier: unknown, _setter?: CarrierSetter): void {}

  override extract(_format: string, _carrier: unknown, _getter?: CarrierGetter): SpanContext | null {
    return null;
  }
}
