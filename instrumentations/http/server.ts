import type { IncomingMessage, ServerResponse } from 'node:http';
import { FORMAT_HTTP_HEADERS, recordError, type CarrierGetter, type Span, type Tracer } from '../../src/agent/instrumentation.js';
import { isIgnoredPath, type HttpContext, type HttpOptions } from './options.js';

const SERVER_SPAN = Symbol.for('acme.tracing.serverSpan');

interface TracedResponse extends ServerResponse {
  [SERVER_SPAN]?: Span;
}
interface TracedRequest extends IncomingMessage {
  [SERVER_SPAN]?: Span;
}

/**
 * The server span of a request, for frameworks that rename it after their route
 * (`setOperationName('GET /users/:id')`, tag `http.route`). Undefined when the request is untraced.
 */
export function getServerSpan(req: object): Span | undefined {
  return (req as TracedRequest)[SERVER_SPAN];
}

// Node's IncomingHttpHeaders are already lower-case, so a plain property read is enough.
const incomingGetter: CarrierGetter = {
  get(carrier, name) {
    const v = (carrier as Record<string, string | string[] | undefined>)[name];
    return v;
  },
  keys(carrier) {
    return Object.keys(carrier as object);
  },
};

/**
 * Wraps `Server.prototype.emit` so that every 'request' gets a server span that is active for the
 * whole handler. Nothing is added to the request or response that the app can observe except a
 * symbol-keyed property and one 'close' listener on the response.
 */
export function makeServerEmitWrapper(ctx: HttpContext, protocol: 'http' | 'https') {
  const tracer = ctx.tracer;
  const options = ctx.options;
  const isSuppressed = ctx.isSuppressed;
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    return function emitWithTrace(this: unknown, event: unknown, req?: unknown, res?: unknown): boolean {
      if (event !== 'request' || isSuppressed()) return original.apply(this, arguments as unknown as unknown[]);
      const span = startServerSpan(tracer, options, protocol, req as TracedRequest, res as TracedResponse);
      if (span === undefined) return original.apply(this, arguments as unknown as unknown[]);
      const args = arguments;
      const self = this;
      try {
        return tracer.scopeManager.run(span, () => original.apply(self, args as unknown as unknown[]));
      } catch (err) {
        recordError(span, err);
        throw err;
      }
    };
  };
}

function startServerSpan(tracer: Tracer, options: HttpOptions, protocol: string, req: TracedRequest, res: TracedResponse): Span | undefined {
  try {
    if (req === null || typeof req !== 'object' || res === null || typeof res !== 'object') return undefined;
    if (isIgnoredPath(req.url, options.ignorePaths)) return undefined;
    const headers = req.headers;
    const parent = tracer.extract(FORMAT_HTTP_HEADERS, headers, incomingGetter);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(method, { childOf: parent, ignoreActiveSpan: true });
    if (span.isRecording()) {
      span.setTag('span.kind', 'server');
      span.setTag('component', protocol === 'https' ? 'https' : 'http');
      span.setTag('http.method', method);
      const host = typeof headers.host === 'string' ? headers.host : 'localhost';
      const target = req.url ?? '/';
      // An absolute-form target (proxy requests) is a whole URL, credentials and all: redact it as one.
      const url = target.charCodeAt(0) !== 47 /* / */ && target.includes('://') ? target : `${protocol}://${host}${target}`;
      span.setTag('http.url', options.redactor.redact(url));
      const socket = req.socket;
      if (socket !== undefined && socket !== null) {
        const address = socket.remoteAddress;
        if (address !== undefined) span.setTag(address.includes(':') ? 'peer.ipv6' : 'peer.ipv4', address);
        if (socket.remotePort !== undefined) span.setTag('peer.port', socket.remotePort);
      }
      const caller = headers[options.peerServiceHeader];
      if (typeof caller === 'string' && caller !== '') span.setTag('peer.service', caller);
      for (const name of options.requestHeaders) {
        const v = headers[name];
        if (v !== undefined) span.setTag(`http.request.header.${name}`, Array.isArray(v) ? v.join(', ') : v);
      }
    }
    req[SERVER_SPAN] = span;
    res[SERVER_SPAN] = span;
    if (span.isRecording()) {
      // Only when headers are to be captured: one more property on every response costs for nothing.
      if (options.responseHeaders.length > 0) (res as unknown as { [RESPONSE_HEADERS]: readonly string[] })[RESPONSE_HEADERS] = options.responseHeaders;
      res.on('close', finishServerSpan);
    }
    return span;
  } catch {
    return undefined;
  }
}

const RESPONSE_HEADERS = Symbol('acme.tracing.responseHeaders');

/** One shared listener (no per-request closure): `this` is the response. */
function finishServerSpan(this: TracedResponse): void {
  const span = this[SERVER_SPAN];
  if (span === undefined || span.isFinished()) return;
  try {
    const status = this.statusCode;
    if (this.writableFinished) {
      span.setTag('http.status_code', status);
      if (status >= 500) span.setTag('error', true);
      const wanted = (this as unknown as { [RESPONSE_HEADERS]?: readonly string[] })[RESPONSE_HEADERS];
      if (wanted !== undefined) {
        for (const name of wanted) {
          const v = this.getHeader(name);
          if (v !== undefined) span.setTag(`http.response.header.${name}`, Array.isArray(v) ? v.join(', ') : String(v));
        }
      }
    } else {
      // The connection closed before the response was complete: the client went away.
      if (this.headersSent) span.setTag('http.status_code', status);
      span.setTag('error', true);
      span.log({ event: 'error', 'error.kind': 'aborted', message: 'connection closed before the response was complete' });
    }
  } finally {
    span.finish();
  }
}
