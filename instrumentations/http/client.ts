import type { ClientRequest, IncomingMessage } from 'node:http';
import { FORMAT_HTTP_HEADERS, recordError, type CarrierSetter, type Span } from '../../src/agent/instrumentation.js';
import type { HttpContext } from './options.js';

const CLIENT_SPAN = Symbol.for('acme.tracing.clientSpan');

interface TracedClientRequest extends ClientRequest {
  [CLIENT_SPAN]?: Span;
}
interface TracedIncoming extends IncomingMessage {
  [CLIENT_SPAN]?: Span;
}

// setHeader replaces a header of the same name, so a caller's own traceparent is never duplicated.
const requestSetter: CarrierSetter = {
  set(carrier, name, value) {
    (carrier as ClientRequest).setHeader(name, value);
  },
};

/**
 * Wraps `http.request`/`http.get` (and the https ones): the request is created by Node exactly as the
 * caller asked, and only then do we start a client span and add our headers to it — so every call
 * signature keeps working and the caller's options object is never touched.
 */
export function makeRequestWrapper(ctx: HttpContext, component: 'http' | 'https') {
  const tracer = ctx.tracer;
  const redactor = ctx.options.redactor;
  const isSuppressed = ctx.isSuppressed;
  const startClientSpan = ctx.startClientSpan;
  const writableTags = ctx.writableTags;
  const defaultProtocol = `${component}:`;
  return function wrapRequest(original: (...args: unknown[]) => ClientRequest) {
    // Installed with `ownGuard`: the original is called as it is (its throw reaches the caller
    // unchanged) and everything of ours runs inside the try below.
    return function requestWithTrace(this: unknown): ClientRequest {
      const req = original.apply(this, arguments as unknown as unknown[]) as TracedClientRequest;
      try {
        if (isSuppressed() || req === null || typeof req !== 'object' || req[CLIENT_SPAN] !== undefined) return req;
        const method = req.method ?? 'GET';
        const hostHeader = req.getHeader('host');
        const protocol = req.protocol ?? defaultProtocol;
        const authority = typeof hostHeader === 'string' ? hostHeader : req.host;
        const span = startClientSpan(method, { component, authority, defaultPort: protocol === 'https:' ? 443 : 80 });
        const tags = writableTags(span);
        if (tags !== null) {
          tags['http.method'] = method;
          tags['http.url'] = clientUrl(redactor, protocol, authority, req.path);
        }
        if (!req.headersSent) tracer.inject(span, FORMAT_HTTP_HEADERS, req, requestSetter);
        req[CLIENT_SPAN] = span;
      } catch (err) {
        ctx.log.warnOnce('http-client', `http client tracing failed, request sent untraced: ${String(err)}`);
      }
      return req;
    };
  };
}

/** The request's URL as recorded, redacted (parts of any type Node let through are joined as strings). */
function clientUrl(redactor: HttpContext['options']['redactor'], protocol: string, authority: unknown, path: unknown): string {
  const origin = `${protocol}//${authority}`;
  if (typeof authority === 'string' && typeof path === 'string') return redactor.redactJoined(origin, path);
  return redactor.redact(`${origin}${path}`);
}

/**
 * Wraps `ClientRequest.prototype.emit` to follow a traced request's life without adding listeners
 * to it: adding a 'response' listener would change Node's behaviour (a response nobody listens to
 * is discarded), so we observe the events Node emits instead.
 */
export function wrapClientRequestEmit(original: (...args: unknown[]) => boolean) {
  // Guards its own code (installed with `ownGuard`): called on every event of every client request.
  return function emitWithTrace(this: TracedClientRequest, event: unknown, arg?: unknown): boolean {
    observeClientEvent(this, event, arg);
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

function observeClientEvent(req: TracedClientRequest, event: unknown, arg: unknown): void {
  try {
    const span = req[CLIENT_SPAN];
    if (span === undefined || span.isFinished()) return;
    switch (event) {
      case 'response': {
        const res = arg as TracedIncoming;
        const status = res.statusCode ?? 0;
        span.setTag('http.status_code', status);
        if (status >= 400) span.setTag('error', true);
        res[CLIENT_SPAN] = span;
        res.on('close', finishOnResponseClose);
        break;
      }
      case 'error':
        recordError(span, arg);
        span.finish();
        break;
      case 'timeout':
        span.setTag('error', true);
        span.log({ event: 'timeout', message: 'request timed out' });
        break;
      case 'close':
        // Closed with no response and no error: the caller aborted it.
        if ((req as unknown as { res?: unknown }).res == null) {
          span.setTag('error', true);
          span.log({ event: 'error', 'error.kind': 'aborted', message: 'request aborted before a response arrived' });
          span.finish();
        }
        break;
    }
  } catch {
    // Observing must never change what the app sees.
  }
}

function finishOnResponseClose(this: TracedIncoming): void {
  const span = this[CLIENT_SPAN];
  if (span === undefined || span.isFinished()) return;
  if (!this.complete) {
    span.setTag('error', true);
    span.log({ event: 'error', 'error.kind': 'aborted', message: 'response closed before its body was complete' });
  }
  span.finish();
}
