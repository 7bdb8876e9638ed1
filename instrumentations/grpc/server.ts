// Server spans for every handler registered on a grpc-js `Server` (addService calls `register` for
// each method), and for calls to methods nobody registered.
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { describeError, FORMAT_HTTP_HEADERS, type Span } from '../../src/agent/instrumentation.js';
import { CallContext, CANCELLED, codeOfError, DEADLINE_EXCEEDED, describeMethod, finishWithStatus, hostPortOf, INTERNAL, isServerError, metadataMapGetter, OK, UNIMPLEMENTED, UNKNOWN } from './rpc.js';

type AnyFn = (...args: any[]) => any;

interface ServerCall {
  metadata?: { getMap(): Record<string, unknown> };
  getPeer?(): string;
  getDeadline?(): Date | number;
  emit: AnyFn;
  writableEnded?: boolean;
}

/** Patches grpc-js's `Server`: `register` (every known method) and its HTTP/2 stream handlers (unknown methods). */
export function patchServer(Server: { prototype: Record<string, AnyFn> }, ctx: InstrumentationContext): void {
  // What grpc-js answers when a handler throws: INTERNAL before 1.10, UNKNOWN since.
  const minor = Number(/^1\.(\d+)\./.exec(ctx.moduleVersion)?.[1] ?? '99');
  const thrownCode = minor < 10 ? INTERNAL : UNKNOWN;
  ctx.wrap(Server.prototype, 'register', (original) =>
    function registerWithTrace(this: unknown, name: unknown, handler: unknown, ...rest: unknown[]): unknown {
      if (typeof name !== 'string' || typeof handler !== 'function') return original.call(this, name, handler, ...rest);
      const type = rest[2];
      return original.call(this, name, tracedHandler(ctx, name, handler as AnyFn, type === 'serverStream' || type === 'bidi', thrownCode), ...rest);
    },
  );
  // Private, and their arguments differ between versions ((stream, headers) before 1.10, then
  // (interceptors, stream, headers)): the headers are found by shape, and a version without them simply
  // gets no span for unknown methods.
  for (const method of ['_streamHandler', '_channelzHandler']) {
    ctx.wrap(Server.prototype, method, (original) => unknownMethodHandler(ctx, original));
  }
}

function startServerSpan(ctx: InstrumentationContext, path: string, carrier: Record<string, unknown>, peer: string): Span {
  const { name, service, method } = describeMethod(path);
  const parent = ctx.tracer.extract(FORMAT_HTTP_HEADERS, carrier, metadataMapGetter);
  const span = ctx.tracer.startSpan(name, {
    // A call without (or with a malformed) context starts a trace: never a child of whatever the HTTP/2 session's context was.
    ...(parent === null ? { ignoreActiveSpan: true } : { childOf: parent }),
    tags: { 'span.kind': 'server', component: 'grpc', 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
  });
  if (peer !== '') {
    const { host, port } = hostPortOf(peer);
    span.setTag(host.includes(':') ? 'peer.ipv6' : /^[\d.]+$/.test(host) ? 'peer.ipv4' : 'peer.hostname', host);
    if (port !== undefined) span.setTag('peer.port', port);
  }
  return span;
}

function deadlinePassed(call: ServerCall): boolean {
  try {
    const d = call.getDeadline?.();
    const at = d instanceof Date ? d.getTime() : typeof d === 'number' ? d : Infinity;
    return Number.isFinite(at) && at <= Date.now();
  } catch {
    return false;
  }
}

/**
 * The handler grpc-js will call: a server span around it, active for the handler and (through the call's
 * events) for its stream listeners, ended once by whichever comes first of the response, the stream's
 * end or error, a cancel, or a throw.
 */
function tracedHandler(ctx: InstrumentationContext, path: string, handler: AnyFn, streamsOut: boolean, thrownCode: number): AnyFn {
  const handlerWithTrace = function handlerWithTrace(this: unknown, call: ServerCall, respond?: AnyFn): unknown {
    if (call === null || typeof call !== 'object' || typeof call.emit !== 'function') return handler.apply(this, [call, respond]);
    let span: Span;
    try {
      span = startServerSpan(ctx, path, call.metadata?.getMap() ?? {}, call.getPeer?.() ?? '');
    } catch (err) {
      ctx.log.debug(`grpc: no server span for ${path}: ${describeError(err)}`);
      return handler.apply(this, [call, respond]);
    }
    let ended = false;
    const end = (code: number, message: string): void => {
      if (ended) return;
      ended = true;
      finishWithStatus(span, code, message, isServerError(code));
    };
    const self = this;
    return ctx.tracer.scopeManager.run(span, () => {
      new CallContext(ctx.tracer, span).emitHere(call, (event, arg, emitter) => {
        if (event === 'cancelled') {
          // From grpc-js 1.10 a stream that ended normally also emits 'cancelled' (after prefinish): the
          // status was OK then. A unary call answered already ended the span.
          if ((emitter as ServerCall).writableEnded === true) end(OK, '');
          else end(deadlinePassed(call) ? DEADLINE_EXCEEDED : CANCELLED, deadlinePassed(call) ? 'Deadline exceeded' : 'Cancelled by the client');
        } else if (streamsOut && event === 'error') {
          end(codeOfError(arg), (arg as { details?: string; message?: string } | null)?.details ?? (arg as Error | null)?.message ?? '');
        } else if (streamsOut && event === 'finish') {
          end(OK, '');
        }
      });
      const args: unknown[] = [call];
      if (typeof respond === 'function') {
        args.push(function respondWithTrace(this: unknown, err: unknown, ...rest: unknown[]): unknown {
          try {
            return respond.apply(this, [err, ...rest]);
          } finally {
            if (err === null || err === undefined) end(OK, '');
            else end(codeOfError(err), (err as { details?: string; message?: string }).details ?? (err as Error).message ?? '');
          }
        });
      } else if (respond !== undefined) args.push(respond);
      try {
        return handler.apply(self, args);
      } catch (err) {
        end(thrownCode, err instanceof Error ? err.message : String(err));
        throw err;
      }
    });
  };
  Object.defineProperty(handlerWithTrace, 'name', { value: handler.name });
  Object.defineProperty(handlerWithTrace, 'length', { value: handler.length });
  return handlerWithTrace;
}

/** A server span (UNIMPLEMENTED) for a call to a method no handler was registered for. */
function unknownMethodHandler(ctx: InstrumentationContext, original: AnyFn): AnyFn {
  return function streamHandlerWithTrace(this: { handlers?: Map<string, unknown> }, ...args: unknown[]): unknown {
    let span: Span | null = null;
    try {
      const headers = args.find((a): a is Record<string, unknown> => a !== null && typeof a === 'object' && typeof (a as Record<string, unknown>)[':path'] === 'string');
      const path = headers?.[':path'] as string | undefined;
      if (headers !== undefined && path !== undefined && this.handlers instanceof Map && !this.handlers.has(path)) {
        const stream = args.find((a) => a !== null && typeof a === 'object' && typeof (a as { respond?: unknown }).respond === 'function') as { session?: { socket?: { remoteAddress?: string; remotePort?: number } } } | undefined;
        const socket = stream?.session?.socket;
        span = startServerSpan(ctx, path, headers, socket?.remoteAddress === undefined ? '' : `${socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`);
      }
    } catch (err) {
      ctx.log.debug(`grpc: no span for an unknown method: ${describeError(err)}`);
    }
    if (span === null) return original.apply(this, args);
    try {
      return original.apply(this, args);
    } finally {
      finishWithStatus(span, UNIMPLEMENTED, 'unknown method', true);
    }
  };
}
