import type * as otel from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { isTracingSuppressed, scopeAttachments, suppressTracing, type ScopeAttachments, type Span } from '../../src/agent/instrumentation.js';
import type { SpanBridge } from './bridge.js';
import { BAGGAGE_KEY, isSuppressedContext, ROOT, SPAN_KEY, SUPPRESS_TRACING_KEY } from './context.js';
import { baggageFromRecord } from './baggage.js';
import { activeContextOf } from './span.js';

/** A context made active by `context.with`, and the span of ours activated with it. */
class Entry {
  constructor(
    readonly context: otel.Context,
    readonly span: Span | null,
  ) {}
}

/**
 * OpenTelemetry's context manager over our scope manager: one context both ways.
 * - `context.with(ctx, fn)` makes the context's span the active span of ours (a stand-in when the span
 *   is not ours), so our instrumentations started inside see it as their parent; the context itself
 *   (every key, not only the span) is kept beside it for `context.active()`.
 * - `context.active()` returns that context while the span of ours it activated is still the active
 *   one; when our instrumentations activated another span since (a request's server span, a client
 *   span), it is that span's face, over the kept context's other keys.
 */
export class BridgeContextManager implements otel.ContextManager {
  /**
   * Where the entry lives: beside the active span in the agent's one store (no second
   * `AsyncLocalStorage` for Node 20 to propagate on every async resource), or, under a scope
   * manager of the user's own, in a storage of this bridge's.
   */
  private readonly attachments: ScopeAttachments | null;
  private storage: AsyncLocalStorage<Entry> | null = null;

  constructor(private readonly bridge: SpanBridge) {
    this.attachments = scopeAttachments(bridge.tracer.scopeManager);
  }

  private currentEntry(): Entry | undefined {
    if (this.attachments === null) return this.storage?.getStore();
    const entry = this.attachments.active();
    return entry instanceof Entry ? entry : undefined;
  }

  active(): otel.Context {
    const scope = this.bridge.tracer.scopeManager.active();
    const ours = scope === null ? null : scope.span;
    const entry = this.currentEntry();
    let ctx: otel.Context;
    if (entry !== undefined && entry.span === ours) ctx = entry.context;
    else if (ours === null) ctx = entry === undefined ? ROOT : entry.context.deleteValue(SPAN_KEY);
    else {
      const face = this.bridge.face(ours);
      if (entry === undefined) ctx = activeContextOf(face);
      else {
        ctx = entry.context.setValue(SPAN_KEY, face);
        const baggage = ours.context().baggage;
        if (baggage !== null) ctx = ctx.setValue(BAGGAGE_KEY, baggageFromRecord(baggage));
      }
    }
    // Inside our own suppression (the exporter's requests), OpenTelemetry instrumentations stand down too.
    if (isTracingSuppressed() && !isSuppressedContext(ctx)) ctx = ctx.setValue(SUPPRESS_TRACING_KEY, true);
    return ctx;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: otel.Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    if (ctx === null || typeof ctx !== 'object' || typeof ctx.getValue !== 'function') ctx = ROOT;
    const target = this.bridge.spanFor(ctx);
    const entry = new Entry(ctx, target);
    const attachments = this.attachments;
    // Inside a context that carries OpenTelemetry's suppressTracing mark, our instrumentations stand down too.
    const suppress = isSuppressedContext(ctx) && !isTracingSuppressed();
    if (attachments !== null) {
      // One store switch: the span of ours and the entry beside it, and no closure per call.
      if (!suppress) return attachments.run(target, entry, fn, thisArg, args);
      return suppressTracing(() => attachments.run(target, entry, fn, thisArg, args));
    }
    const storage = (this.storage ??= new AsyncLocalStorage<Entry>());
    const call = (): ReturnType<F> => storage.run(entry, () => fn.apply(thisArg, args));
    const scopeManager = this.bridge.tracer.scopeManager;
    const current = scopeManager.active();
    const run = (current === null ? null : current.span) === target ? call : (): ReturnType<F> => scopeManager.run(target, call);
    return suppress ? suppressTracing(run) : run();
  }

  bind<T>(ctx: otel.Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return manager.with(ctx, () => fn.apply(this, args));
    };
    try {
      Object.defineProperty(bound, 'length', { value: fn.length, configurable: true });
      Object.defineProperty(bound, 'name', { value: fn.name, configurable: true });
    } catch {
      // cosmetic
    }
    return bound as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}
