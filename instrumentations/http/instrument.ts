import type * as httpModule from 'node:http';
import { makeRequestWrapper, wrapClientRequestEmit } from './client.js';
import type { HttpContext } from './options.js';
import { makeRequestEmitWrapper, makeResponseEmitWrapper, makeServerEmitWrapper } from './server.js';

type HttpLike = typeof httpModule;

// Every wrapper here runs on every request (or every event of one): each guards its own code instead.
const OWN_GUARD = { ownGuard: true } as const;

/** Patches a loaded `http` or `https` module: its Server's emit, request and get, and ClientRequest emit. */
export function patchHttpModule(exports: HttpLike, ctx: HttpContext, protocol: 'http' | 'https'): void {
  if (exports.Server?.prototype !== undefined) {
    ctx.wrap(exports.Server.prototype, 'emit', makeServerEmitWrapper(ctx, protocol) as never, OWN_GUARD);
  }
  const originalRequest = exports.request;
  ctx.wrap(exports, 'request', makeRequestWrapper(ctx, protocol) as never, OWN_GUARD);
  // Node's own `get` ends the request before returning it, too early for our headers; this one goes
  // through the wrapped `request` instead and ends it the same way. Installed with `ownGuard`: it has
  // no code of its own that can throw, and what `request` or `end` throw is the caller's to see (the
  // guard layer would take a throw of `end` for ours and send the request a second time).
  ctx.wrap(exports, 'get', ((originalGet: Function) => function getWithTrace(this: unknown): unknown {
    if (typeof exports.request !== 'function' || exports.request === originalRequest) return originalGet.apply(this, arguments);
    const req = exports.request.apply(this, arguments as never);
    req.end();
    return req;
  }) as never, OWN_GUARD);
  // https requests are http ClientRequests: one wrapper of their emit serves both modules (`wrap`
  // leaves an agent wrapper alone, so whichever of http and https loads second wraps nothing here).
  const clientProto = (exports as { ClientRequest?: { prototype: object } }).ClientRequest?.prototype
    ?? (require('node:http') as HttpLike).ClientRequest.prototype;
  ctx.wrap(clientProto as { emit: (...a: unknown[]) => boolean }, 'emit', wrapClientRequestEmit as never, OWN_GUARD);
  // https's requests and responses are http's IncomingMessage and ServerResponse: wrapped once for
  // both, the same way. Their events run in the request's scope (see makeRequestEmitWrapper).
  const http = (exports.IncomingMessage !== undefined ? exports : require('node:http')) as HttpLike;
  type Emitting = { emit: (...a: unknown[]) => boolean };
  if (http.IncomingMessage?.prototype !== undefined) ctx.wrap(http.IncomingMessage.prototype as unknown as Emitting, 'emit', makeRequestEmitWrapper(ctx.tracer) as never, OWN_GUARD);
  if (http.ServerResponse?.prototype !== undefined) ctx.wrap(http.ServerResponse.prototype as unknown as Emitting, 'emit', makeResponseEmitWrapper(ctx.tracer) as never, OWN_GUARD);
}
