import type * as httpModule from 'node:http';
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { makeRequestWrapper, wrapClientRequestEmit } from './client.js';
import { makeResponseEmitWrapper, makeServerEmitWrapper } from './server.js';
import { makeScopedEmitWrapper } from '../../src/scope/emitter-scope.js';

type HttpLike = typeof httpModule;

/** Patches a loaded `http` or `https` module: its Server's emit, request and get, and ClientRequest emit. */
export function patchHttpModule(exports: HttpLike, ctx: InstrumentationContext, protocol: 'http' | 'https'): void {
  if (exports.Server?.prototype !== undefined) {
    ctx.wrap(exports.Server.prototype, 'emit', makeServerEmitWrapper(ctx, protocol) as never);
  }
  const originalRequest = exports.request;
  ctx.wrap(exports, 'request', makeRequestWrapper(ctx, protocol) as never);
  // Node's own `get` ends the request before returning it, too early for our headers; this one goes
  // through the wrapped `request` instead and ends it the same way.
  ctx.wrap(exports, 'get', ((originalGet: Function) => function getWithTrace(this: unknown): unknown {
    if (typeof exports.request !== 'function' || exports.request === originalRequest) return originalGet.apply(this, arguments);
    const req = exports.request.apply(this, arguments as never);
    req.end();
    return req;
  }) as never);
  // https requests are http ClientRequests: one wrapper of their emit serves both modules.
  const clientProto = (exports as { ClientRequest?: { prototype: object } }).ClientRequest?.prototype
    ?? (require('node:http') as HttpLike).ClientRequest.prototype;
  if (!(clientProto as Record<symbol, boolean>)[CLIENT_EMIT_WRAPPED]) {
    (clientProto as Record<symbol, boolean>)[CLIENT_EMIT_WRAPPED] = true;
    ctx.wrap(clientProto as { emit: (...a: unknown[]) => boolean }, 'emit', wrapClientRequestEmit as never);
  }
  // https's requests and responses are http's IncomingMessage and ServerResponse: wrapped once for both.
  const http = (exports.IncomingMessage !== undefined ? exports : require('node:http')) as HttpLike;
  wrapEmitOnce(ctx, http.IncomingMessage?.prototype, makeScopedEmitWrapper(ctx.tracer));
  wrapEmitOnce(ctx, http.ServerResponse?.prototype, makeResponseEmitWrapper(ctx.tracer));
}

function wrapEmitOnce(ctx: InstrumentationContext, proto: object | undefined, wrapper: unknown): void {
  const marks = proto as Record<symbol, boolean> | undefined;
  // An own mark: a subclass's prototype must not be skipped over its parent's mark.
  if (marks === undefined || Object.prototype.hasOwnProperty.call(marks, SCOPED_EMIT_WRAPPED)) return;
  marks[SCOPED_EMIT_WRAPPED] = true;
  ctx.wrap(proto as { emit: (...a: unknown[]) => boolean }, 'emit', wrapper as never);
}

export function unpatchHttpModule(exports: HttpLike, ctx: InstrumentationContext): void {
  if (exports.Server?.prototype !== undefined) ctx.unwrap(exports.Server.prototype, 'emit');
  ctx.unwrap(exports, 'request');
  ctx.unwrap(exports, 'get');
}

const CLIENT_EMIT_WRAPPED = Symbol.for('acme.tracing.clientEmitWrapped');
const SCOPED_EMIT_WRAPPED = Symbol.for('acme.tracing.messageEmitWrapped');
