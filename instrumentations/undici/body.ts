import {
  canReenter, EMITTER_SCOPE, makeScopedEmitWrapper, type InstrumentationContext, type Scope, type ScopedEmitter, type ScopeManager,
} from '../../src/agent/instrumentation.js';

/**
 * The body of an `undici.request` (and `client.request`, `pool.request`, `agent.request`) response
 * gets its data from the connection's socket, so its 'data', 'readable' and 'end' listeners run in the
 * context of whichever request opened that connection: on a pooled one, another trace's. undici runs
 * the caller's callback (and resolves its promise) in the caller's context — its `RequestHandler` is an
 * `AsyncResource` made in that context — but not the body's events.
 *
 * So, once undici has made the body (`RequestHandler.prototype.onHeaders`, in every major 5–7; a later
 * one without it is left alone), the caller's scope is read in the handler's own async scope and put
 * on the body, and the body class's `emit` re-enters it (see src/scope/emitter-scope.ts): listeners
 * untouched, nothing allocated for a call made outside any trace.
 */

interface RequestHandlerLike {
  res?: unknown;
  runInAsyncScope?: (fn: (manager: ScopeManager) => Scope | null, thisArg: unknown, manager: ScopeManager) => Scope | null;
}

interface ApiRequestModule {
  RequestHandler?: { prototype: { onHeaders?: (...args: unknown[]) => unknown } };
}

const BODY_EMIT_WRAPPED = Symbol.for('acme.tracing.undiciBodyEmitWrapped');

function activeScope(manager: ScopeManager): Scope | null {
  return manager.active();
}

/** Patches undici's `lib/api/api-request.js` exports. */
export function patchRequestHandler(exports: ApiRequestModule, ctx: InstrumentationContext<unknown>): void {
  const proto = exports?.RequestHandler?.prototype;
  if (proto === undefined || !canReenter(ctx.tracer)) return;
  const tracer = ctx.tracer;
  const wrapBodyEmit = makeScopedEmitWrapper(tracer);
  ctx.wrap(proto, 'onHeaders', (original) => function onHeadersWithTrace(this: RequestHandlerLike): unknown {
    const result = original!.apply(this, arguments as unknown as unknown[]);
    const body = this.res as (ScopedEmitter & object) | null | undefined;
    if (body === null || typeof body !== 'object' || typeof this.runInAsyncScope !== 'function') return result;
    const scope = this.runInAsyncScope(activeScope, null, tracer.scopeManager);
    if (scope === null) return result;
    const bodyProto = Object.getPrototypeOf(body) as Record<symbol, boolean> | null;
    if (bodyProto !== null && !Object.prototype.hasOwnProperty.call(bodyProto, BODY_EMIT_WRAPPED)) {
      // undici does not export its body class: its prototype is wrapped when the first body shows it.
      bodyProto[BODY_EMIT_WRAPPED] = true;
      // `makeScopedEmitWrapper` guards its own code and calls the original as it is (every event of every body).
      ctx.wrap(bodyProto as unknown as { emit: (...a: unknown[]) => boolean }, 'emit', wrapBodyEmit as never, { ownGuard: true });
    }
    body[EMITTER_SCOPE] = scope;
    return result;
  });
}
