import { describeError, log } from '../util/log.js';
import { idPool, type IdPool } from '../util/ids.js';
import { defaultGetter, defaultSetter, type CarrierGetter, type CarrierSetter } from './carrier.js';
import { FORMAT_BINARY, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP } from './formats.js';
import type { TextMapPropagator } from './propagator.js';
import type { ContextSource, Reference } from './reference.js';
import type { Sampler } from './sampler.js';
import type { Scope, ScopeManager } from './scope-manager.js';
import { FLAG_RANDOM, FLAG_SAMPLED, SpanContext } from './span-context.js';
import type { SpanProcessor } from './span-processor.js';
import { Span, type TagValue } from './span.js';
import { REFERENCE_CHILD_OF, REFERENCE_FOLLOWS_FROM, Tags } from './tags.js';
import { startActiveSpanOn, type ActiveSpanOptions, type SpanOptions, type Tracer } from './tracer.js';

/**
 * The parts a `BasicTracer` is made of, every one given: api/ chooses no implementation (the
 * public `new Tracer(options)` and the agent fill them in, in src/tracer.ts).
 */
export interface TracerParts {
  /** Receives finished, sampled spans. */
  processor: SpanProcessor;
  sampler: Sampler;
  scopeManager: ScopeManager;
  /** Used for `http_headers` and `text_map`. */
  propagator: TextMapPropagator;
  /** Describes the process: `service.name` and the like; read by exporters. */
  resource?: Readonly<Record<string, TagValue>>;
}

// What a closed tracer hands finished spans to: nothing is exported after `close()`.
const CLOSED: SpanProcessor = {
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * The tracer that samples, records and hands finished spans to its processor; built from its parts.
 * Users get one from `new Tracer(options)`, which fills in the parts they leave out.
 */
export class BasicTracer implements Tracer {
  private readonly _resource: Readonly<Record<string, TagValue>>;
  private readonly _scopeManager: ScopeManager;
  private readonly _sampler: Sampler;
  private readonly _propagator: TextMapPropagator;
  private _processor: SpanProcessor;
  private readonly _samplerReadsTraceId: boolean;

  constructor(parts: TracerParts) {
    this._scopeManager = parts.scopeManager;
    this._sampler = parts.sampler;
    this._propagator = parts.propagator;
    this._processor = parts.processor;
    // A sampler that does not say otherwise (a user's, a ratio sampler) gets the trace id as hex.
    this._samplerReadsTraceId = parts.sampler.readsTraceId !== false;
    this._resource = Object.freeze({ ...(parts.resource ?? {}) });
  }

  get resource(): Readonly<Record<string, TagValue>> {
    return this._resource;
  }

  get scopeManager(): ScopeManager {
    return this._scopeManager;
  }

  get sampler(): Sampler {
    return this._sampler;
  }

  get propagator(): TextMapPropagator {
    return this._propagator;
  }

  activeSpan(): Span | null {
    const scope = this._scopeManager.active();
    return scope === null ? null : scope.span;
  }

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
    // A non-recording span is never exported, so it skips the clock read; a recording one reads it itself
    // (undefined), where the number is stored.
    const start = typeof options?.startTime === 'number' ? options.startTime : sampled ? undefined : 0;
    if (!sampled) return Span.unsampled(this, String(name), context, parent, start, links);
    const span = Span.recording(this, String(name), context, parent, start, links);
    if (tags !== undefined && tags !== null) span.addTags(tags);
    return span;
  }

  startActiveSpan(name: string, options?: ActiveSpanOptions): Scope;
  startActiveSpan<T>(name: string, options: ActiveSpanOptions | undefined, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, fn: (span: Span) => T): T;
  startActiveSpan<T>(name: string, optionsOrFn?: ActiveSpanOptions | ((span: Span) => T), maybeFn?: (span: Span) => T): Scope | T {
    return startActiveSpanOn(this, name, optionsOrFn, maybeFn);
  }

  inject(spanOrContext: Span | SpanContext | ContextSource | null | undefined, format: string, carrier: unknown, setter: CarrierSetter = defaultSetter): void {
    if (spanOrContext === null || spanOrContext === undefined) return;
    // Inline try/catch rather than `guard`: every outgoing call injects, and a closure per call adds up.
    try {
      const ctx = toContext(spanOrContext);
      if (ctx === null) return;
      if (format === FORMAT_HTTP_HEADERS || format === FORMAT_TEXT_MAP) this._propagator.inject(ctx, carrier, setter);
      else if (format === FORMAT_BINARY) binaryFormat().injectBinary(ctx, carrier);
    } catch (err) {
      // What `guard` would log: the call goes on without our headers.
      log.warnOnce('inject', `internal error in inject, carrying on without it: ${describeError(err)}`);
    }
  }

  extract(format: string, carrier: unknown, getter: CarrierGetter = defaultGetter): SpanContext | null {
    // Inline try/catch rather than `guard`: every server request extracts, and a closure per call adds up.
    try {
      if (format === FORMAT_HTTP_HEADERS || format === FORMAT_TEXT_MAP) return this._propagator.extract(carrier, getter, null);
      if (format === FORMAT_BINARY) return binaryFormat().extractBinary(carrier);
      return null;
    } catch (err) {
      // What `guard` would log: a malformed header never throws, and the request starts a new trace.
      log.warnOnce('extract', `internal error in extract, carrying on without it: ${describeError(err)}`);
      return null;
    }
  }

  flush(): Promise<void> {
    return this._processor.forceFlush().catch(() => undefined);
  }

  close(): Promise<void> {
    const processor = this._processor;
    this._processor = CLOSED;
    return processor.shutdown().catch(() => undefined);
  }

  /** @internal Called by `Span.finish()` for recording spans. */
  _spanFinished(span: Span): void {
    // Inline try/catch rather than `guard`: every recording span ends here, and a closure per span adds up.
    try {
      this._processor.onEnd(span);
    } catch (err) {
      log.warnOnce('span processor', `internal error in span processor, carrying on without it: ${describeError(err)}`);
    }
  }
}

function toContext(value: Span | SpanContext | ContextSource): SpanContext | null {
  if (value instanceof SpanContext) return value;
  if (value instanceof Span) return value.context();
  if (referenceModule().isContextSource(value)) {
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

/**
 * reference.js (OpenTracing's `references` API), required at the first call of `toContext`'s rare path and by the
 * public API's entry, not by the tracer's load (see binaryFormat below); kept once required, as a `require` per
 * call resolves the path again each time.
 */
let reference: typeof import('./reference.js') | null = null;
function referenceModule(): typeof import('./reference.js') {
  return (reference ??= require('./reference.js') as typeof import('./reference.js'));
}

/**
 * The binary format's code, required at its first use. Only OpenTracing callers pass FORMAT_BINARY (no
 * instrumentation does); every traced process built it with the tracer when it first loaded node:http, young
 * objects its scavenges copied and promoted with the rest of the core's build (docs/performance.md, round
 * eighteen's core room). The literal path lets the core bundle resolve it when it is written.
 */
let binary: typeof import('./binary-format.js') | null = null;
function binaryFormat(): typeof import('./binary-format.js') {
  return (binary ??= require('./binary-format.js') as typeof import('./binary-format.js'));
}
