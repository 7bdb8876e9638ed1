import type { Tracer } from '../../src/api/tracer.js';
import type { Scope } from '../../src/scope/scope-manager.js';

/**
 * The scope a traced message's events run in: for a server request and its response, the scope the
 * 'request' handler ran in (the server span's). Set on the instance when the request is traced,
 * absent otherwise.
 */
export const MESSAGE_SCOPE = Symbol('acme.tracing.messageScope');

interface ScopedMessage {
  [MESSAGE_SCOPE]?: Scope;
}

/**
 * Wraps `emit` of `IncomingMessage.prototype` and `ServerResponse.prototype` so that every event of
 * a traced message runs in the message's scope, on whichever tick Node emits it: the body's 'data',
 * 'readable' and 'end' come from the connection's socket, in the context of whoever opened the
 * connection, not of the request; a `pipeline`/`finished` callback or a listener of the app runs
 * from inside these events.
 *
 * Why `emit` on the prototype, and not the listeners (OpenTelemetry's `context.bind(emitter)`,
 * older dd-trace): a wrapped listener is a different function, so `rawListeners`, `listeners`,
 * `off(original)` and `once` need a map from originals to wrappers kept in step with every
 * `EventEmitter` method, which other tracers have got wrong (listeners that cannot be removed,
 * double wrapping through `once` → `on`), and it costs a closure per listener. Here the listeners
 * are untouched, so every `EventEmitter` method behaves exactly as without the agent; an untraced
 * message costs one symbol read per event and allocates nothing.
 */
export function makeMessageEmitWrapper(tracer: Tracer) {
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    return function emitWithTrace(this: ScopedMessage): boolean {
      const scope = this[MESSAGE_SCOPE];
      if (scope === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return tracer.scopeManager.callIn!(scope, original, this, arguments);
    };
  };
}
