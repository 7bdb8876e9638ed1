import type { ServerResponse } from 'node:http';
import type { Span } from '../../src/agent/instrumentation.js';
import { defineInstrumentation, type InstrumentationContext } from '../../src/agent/instrumentation.js';
import { guard } from '../../src/agent/instrumentation.js';
import { getServerSpan, internalError, nameServerSpan, notePendingError } from './server-span.js';

/*
 * Koa, and @koa/router through it:
 * - Application#handleRequest (every request): tags the server span, and once the response is
 *   finished names it after the route @koa/router matched (`ctx._matchedRoute`, which already
 *   carries router prefixes and nested mounts). No match: the span keeps the bare method.
 * - the context prototype's `onerror` (where koa sends every error a middleware threw or rejected,
 *   found on the first request as koa does not export it): the error is recorded if the answer is
 *   a 5xx. Errors a middleware catches and answers itself never get there.
 * The middleware list, `ctx` and `next` are left alone.
 */

const KOA_CONTEXT = Symbol('acme.tracing.koaContext');
// Checked on every request before patching the context prototype: a symbol read is cheaper than
// asking `wrap` (a WeakMap lookup) each time.
const ONERROR_PATCHED = Symbol.for('acme.tracing.koaOnerrorPatched');

interface KoaContext {
  req?: object;
  res?: ServerResponse & { [KOA_CONTEXT]?: KoaContext };
  method?: unknown;
  _matchedRoute?: unknown;
}
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** Shared 'finish' listener (no per-request closure): `this` is the response. */
function nameAfterMatchedRoute(this: { [KOA_CONTEXT]?: KoaContext }): void {
  try {
    const ctx = this[KOA_CONTEXT];
    this[KOA_CONTEXT] = undefined;
    const route = ctx?._matchedRoute;
    const span = ctx?.req === undefined ? undefined : getServerSpan(ctx.req);
    if (span !== undefined && route !== undefined && route !== null) nameServerSpan(span, ctx!.method, String(route), 'koa');
  } catch (err) {
    internalError('koa route', err);
  }
}

function onerrorWrapper(original: AnyFunction): AnyFunction {
  return function onerrorWithTrace(this: unknown, err: unknown): unknown {
    if (err !== null && err !== undefined) {
      const ctx = this as KoaContext | null;
      guard('koa onerror', () => {
        const span = ctx?.req === undefined ? undefined : getServerSpan(ctx.req);
        if (span !== undefined) notePendingError(ctx!.res, span, err);
      }, undefined);
    }
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

function patchContextPrototype(ctx: InstrumentationContext, app: unknown): void {
  const appContext = (app as { context?: object } | null)?.context;
  if (appContext === undefined || appContext === null) return;
  // app.context is Object.create(koa's context module): patch the module's object, shared by all apps.
  const proto = Object.getPrototypeOf(appContext) as Record<string | symbol, unknown> | null;
  if (proto === null || proto[ONERROR_PATCHED] === true || typeof proto.onerror !== 'function') return;
  Object.defineProperty(proto, ONERROR_PATCHED, { value: true, configurable: true });
  ctx.wrap(proto, 'onerror', onerrorWrapper as never);
}

function makeHandleRequestWrapper(ctx: InstrumentationContext) {
  return (original: AnyFunction): AnyFunction =>
    function handleRequestWithTrace(this: unknown, koaCtx: unknown): unknown {
      try {
        patchContextPrototype(ctx, this);
        const c = koaCtx as KoaContext | null;
        const res = c?.res;
        const span: Span | undefined = c?.req === undefined ? undefined : getServerSpan(c.req);
        if (span !== undefined && span.isRecording() && res !== undefined && typeof res.once === 'function') {
          span.setTag('component', 'koa');
          res[KOA_CONTEXT] = c!;
          // 'finish' comes before 'close', on which the http instrumentation finishes the span.
          res.once('finish', nameAfterMatchedRoute);
        }
      } catch (err) {
        internalError('koa request', err);
      }
      return original.apply(this, arguments as unknown as unknown[]);
    };
}

/** Names koa's server spans after the @koa/router route and records the errors koa answers. */
export default defineInstrumentation({
  patch(Koa, ctx) {
    const proto = (Koa?.default ?? Koa)?.prototype;
    if (proto === undefined || typeof proto.handleRequest !== 'function') {
      ctx.log.debug(`koa ${ctx.moduleVersion}: no Application#handleRequest, left untouched`);
      return;
    }
    ctx.wrap(proto, 'handleRequest', makeHandleRequestWrapper(ctx) as never);
  },
});
