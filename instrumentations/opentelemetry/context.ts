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
 *
 * Its keys and values sit in one flat array (key, value, key, value…): a context holds a handful of
 * keys (the span, baggage, a mark or two), and `setValue` runs for every span started through the
 * API, so copying a short array costs far less than copying a `Map` (which hashes every key again).
 * A lookup is a scan, as long as the context is short; a long one gets a `Map` index, made once.
 */
export class BridgeContext implements otel.Context {
  private readonly entries: unknown[];
  private index: Map<unknown, unknown> | null = null;

  constructor(entries: unknown[] = []) {
    this.entries = entries;
  }

  getValue(key: symbol): unknown {
    const entries = this.entries;
    if (entries.length > INDEXED_FROM) return (this.index ??= indexOf(entries)).get(key);
    const at = positionOf(entries, key);
    return at === -1 ? undefined : entries[at + 1];
  }

  setValue(key: symbol, value: unknown): otel.Context {
    const entries = this.entries;
    const at = positionOf(entries, key);
    const next = entries.slice();
    if (at === -1) next.push(key, value);
    else next[at + 1] = value;
    return new BridgeContext(next);
  }

  deleteValue(key: symbol): otel.Context {
    const entries = this.entries;
    const at = positionOf(entries, key);
    if (at === -1) return new BridgeContext(entries.slice());
    const next = entries.slice();
    next.splice(at, 2);
    return new BridgeContext(next);
  }
}

// Contexts with more entries than this (16 keys) are looked up through a Map.
const INDEXED_FROM = 32;

function positionOf(entries: readonly unknown[], key: unknown): number {
  for (let i = 0; i < entries.length; i += 2) if (entries[i] === key) return i;
  return -1;
}

function indexOf(entries: readonly unknown[]): Map<unknown, unknown> {
  const index = new Map<unknown, unknown>();
  for (let i = 0; i < entries.length; i += 2) index.set(entries[i], entries[i + 1]);
  return index;
}

/** The empty context. */
export const ROOT = new BridgeContext();

/** True when the context carries `suppressTracing`'s mark. */
export function isSuppressedContext(ctx: otel.Context): boolean {
  return ctx.getValue(SUPPRESS_TRACING_KEY) === true;
}
