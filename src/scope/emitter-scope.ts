import type { Tracer } from '../api/tracer.js';
import type { Scope } from '../api/scope-manager.js';

/**
 * The scope an emitter's events run in, set on the instance by the instrumentation that traced it:
 * for a server request and its response, the scope the 'request' handler ran in (the server span's);
 * for an undici response body, its caller's. Absent on untraced emitters.
 */
export const EMITTER_SCOPE = Symbol('acme.tracing.emitterScope');

/** An emitter that may carry the scope its events run in. */
export interface ScopedEmitter {
  [EMITTER_SCOPE]?: Scope;
}

/**
 * Makes a wrapper for `emit` of a class's prototype (IncomingMessage, ServerResponse, undici's body)
 * under which every event of an instance that carries `EMITTER_SCOPE` runs in that scope, on
 * whichever tick it is emitted: a request body's 'data', 'readable' and 'end' come from the socket,
 * in the context of whoever opened the connection (another request's, on a kept-alive one), not of
 * the request; `pipeline`/`finished` callbacks and the app's listeners run from inside these events.
 *
 * Why `emit` on the prototype, and not the listeners (OpenTelemetry's `context.bind(emitter)`,
 * older dd-trace): a wrapped listener is a different function, so `rawListeners`, `listeners`,
 * `off(original)` and `once` need a map from originals to wrappers kept in step with every
 * `EventEmitter` method, which other tracers have got wrong (listeners that cannot be removed,
 * double wrapping through `once` → `on`), and it costs a closure per listener. Here the listeners
 * are untouched, so every `EventEmitter` method behaves exactly as without the agent; an untraced
 * emitter costs one symbol read per event and allocates nothing. Nor `emit` patched per instance:
 * an own `emit` property is visible to the app (`Object.keys`, spreading) and costs a store per request.
 */
export function makeScopedEmitWrapper(tracer: Tracer) {
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    // Guards its own code (installed with `ownGuard`): called on every event of every instance.
    return function emitWithTrace(this: ScopedEmitter, event: unknown): boolean {
      const scope = scopeToEnter(this, event);
      if (scope === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return tracer.scopeManager.callIn!(scope, original, this, arguments);
    };
  };
}

/** The scope `emitter`'s `event` is to run in; undefined for none (untraced, nobody listening, or anything odd). */
export function scopeToEnter(emitter: ScopedEmitter, event: unknown): Scope | undefined {
  try {
    const scope = emitter[EMITTER_SCOPE];
    return scope !== undefined && mayRunListeners(emitter, event) ? scope : undefined;
  } catch {
    return undefined;
  }
}

/**
 * False only when emitting `event` on `emitter` runs no listener at all (nobody listens to a
 * request's 'end' or a response's 'prefinish' in most apps): then no code can observe the active
 * scope, and entering it (an `AsyncLocalStorage` switch, a frame allocated on Node 24) is skipped.
 * 'error' always counts: with no listener it throws, and `errorMonitor` listeners run first.
 * (Node's own bookkeeping listeners of a server request and response are the http instrumentation's
 * to recognise: see instrumentations/http/server.ts.)
 */
export function mayRunListeners(emitter: object, event: unknown): boolean {
  return listenersMayRun((emitter as { _events?: unknown })._events, event);
}

/**
 * `mayRunListeners` from the emitter's `_events`, read by the caller: a wrapper that needs the
 * listeners for more than this reads the property once (on objects whose maps change from request to
 * request — express re-parents its requests and responses — every property read is a lookup of its own).
 */
export function listenersMayRun(events: unknown, event: unknown): boolean {
  if (event === 'error') return true;
  if (events === null || typeof events !== 'object') return true;
  return (events as Record<PropertyKey, unknown>)[event as PropertyKey] !== undefined;
}

/** Whether the tracer's scope manager can re-enter a scope (`newScope`/`callIn`; a custom one may not). */
export function canReenter(tracer: Tracer): boolean {
  const manager = tracer.scopeManager;
  return typeof manager.newScope === 'function' && typeof manager.callIn === 'function';
}
