import type * as otel from '@opentelemetry/api';

// The API builds its context keys with `Symbol.for(description)`, so every copy of it (the package,
// Next.js's compiled one, a bundled one) uses these very symbols.
/** Where the API keeps the active span in a context. */
export const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
/** Where the API keeps baggage in a context. */
export const BAGGAGE_KEY = Symbol.for('OpenTelemetry Baggage Key');
/** `@opentelemetry/core`'s `suppressTracing(context)` mark (instrumentations check it). */
export const SUPPRESS_TRACING_KEY = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * An immutable OpenTelemetry context: what `context.active()` returns when the agent serves the API.
 * Behaves as the API's own `BaseContext` (copy on write), without depending on a copy of the API.
 */
export class BridgeContext implements otel.Context {
  private readonly values: Map<symbol, unknown>;

  constructor(from?: ReadonlyMap<symbol, unknown>) {
    this.values = from === undefined ? new Map() : new Map(from);
  }

  getValue(key: symbol): unknown {
    return this.values.get(key);
  }

  setValue(key: symbol, value: unknown): otel.Context {
    const next = new BridgeContext(this.values);
    next.values.set(key, value);
    return next;
  }

  deleteValue(key: symbol): otel.Context {
    const next = new BridgeContext(this.values);
    next.values.delete(key);
    return next;
  }
}

/** The empty context. */
export const ROOT = new BridgeContext();

/** True when the context carries `suppressTracing`'s mark. */
export function isSuppressedContext(ctx: otel.Context): boolean {
  return ctx.getValue(SUPPRESS_TRACING_KEY) === true;
}
