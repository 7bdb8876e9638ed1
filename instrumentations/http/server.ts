import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  canReenter, EMITTER_SCOPE, FORMAT_HTTP_HEADERS, listenersMayRun, presetTags, presetTagsOf, recordError, writableTags,
  type CarrierGetter, type PresetShape, type PresetTags, type Scope, type Span, type TagMap, type Tracer,
} from '../../src/agent/instrumentation.js';
import { isIgnoredPath, type HttpContext, type HttpOptions } from './options.js';

const SERVER_SPAN = Symbol.for('acme.tracing.serverSpan');

interface TracedResponse extends ServerResponse {
  [SERVER_SPAN]?: Span;
  [EMITTER_SCOPE]?: Scope;
  [NODE_FINISH]?: unknown;
  _events?: Record<string, unknown>;
}

/**
 * The response's 'finish' listener when the server emitted 'request': Node's own `resOnFinish`
 * (bound per request; it detaches the socket, schedules 'close' and arms the keep-alive timer), the
 * only one a response has before the app's handler runs. While it is still the only one, 'finish'
 * runs none of the app's code and is emitted without entering the request's scope: one
 * `AsyncLocalStorage` switch less per request (and the keep-alive timer, which belongs to the
 * connection, no longer carries the request's context). Compared by identity: reading a bound
 * function's name costs as much as the switch it would save.
 */
const NODE_FINISH = Symbol('acme.tracing.nodeFinish');

/** True when `res`'s only 'finish' listener is the one Node added before the app's handler ran. */
export function isOnlyNodeFinish(res: object): boolean {
  try {
    return isNodeFinish(res as TracedResponse, (res as TracedResponse)._events?.finish);
  } catch {
    return false;
  }
}

function isNodeFinish(res: TracedResponse, listener: unknown): boolean {
  return listener !== undefined && listener === res[NODE_FINISH];
}

/** `listenersMayRun` for 'finish' (a named read), false for Node's own listener alone. */
function finishMayRunListeners(res: TracedResponse, events: Record<string, unknown> | undefined): boolean {
  if (events === null || typeof events !== 'object') return true;
  const listener = events.finish;
  return listener !== undefined && !isNodeFinish(res, listener);
}
interface TracedRequest extends IncomingMessage {
  [SERVER_SPAN]?: Span;
  [EMITTER_SCOPE]?: Scope;
  [FRAMEWORK_STATE]?: object | null;
}

/**
 * Where a framework instrumentation keeps its state of a recording request (express's route
 * bookkeeping). Added (null) here, on the request as Node made it, because a framework re-parents
 * its requests (express: `setPrototypeOf(req, app.request)`), and a property first added after
 * that costs a new map on every request, which then makes the framework's own property accesses
 * on it polymorphic; writing a slot that exists already changes no map. Null on unsampled requests.
 */
export const FRAMEWORK_STATE = Symbol('acme.tracing.frameworkState');

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
 * whole handler. Nothing is added to the request or response that the app can observe except
 * symbol-keyed properties (no listener: the response's 'close' is watched in its `emit`).
 *
 * The handler's scope is kept on the request and the response, so that their events, whichever tick
 * they fire on, run in it again (see `makeScopedEmitWrapper`).
 */
export function makeServerEmitWrapper(ctx: HttpContext, protocol: 'http' | 'https') {
  const tracer = ctx.tracer;
  const options = ctx.options;
  const isSuppressed = ctx.isSuppressed;
  // Guards its own code (installed with `ownGuard`): every event of every server comes through here.
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    return function emitWithTrace(this: unknown, event: unknown, req?: unknown, res?: unknown): boolean {
      if (event !== 'request' || isSuppressed()) return original.apply(this, arguments as unknown as unknown[]);
      const span = startServerSpan(tracer, options, protocol, req as TracedRequest, res as TracedResponse);
      if (span === undefined) return original.apply(this, arguments as unknown as unknown[]);
      const manager = tracer.scopeManager;
      let scope: Scope | null = null;
      try {
        if (canReenter(tracer)) {
          scope = manager.newScope!(span, true);
          (req as TracedRequest)[EMITTER_SCOPE] = scope;
          // The response's span is its scope's: no property of its own for it.
          (res as TracedResponse)[EMITTER_SCOPE] = scope;
          (res as TracedResponse)[NODE_FINISH] = (res as TracedResponse)._events?.finish;
        } else {
          (res as TracedResponse)[SERVER_SPAN] = span;
        }
      } catch {
        return original.apply(this, arguments as unknown as unknown[]);
      }
      try {
        if (scope !== null) return manager.callIn!(scope, original, this, arguments);
        // A scope manager of the user's own without re-entry: the handler is traced, later events are not.
        const args = arguments;
        const self = this;
        return manager.run(span, () => original.apply(self, args as unknown as unknown[]));
      } catch (err) {
        recordError(span, err);
        throw err;
      }
    };
  };
}

// A request without a trace context starts a new trace, whatever is active where the socket's event fired.
const NEW_TRACE = Object.freeze({ ignoreActiveSpan: true });

/** A server span's preset tags: made by fillServerTags from the request's parts, as startServerSpan keeps them. */
const SERVER_TAGS: PresetShape = { fill: fillServerTags };
/** Where the response's status and error are kept until the tags are made. */
const STATUS_AT = 8;
const ERROR_AT = 9;

/**
 * The server span's tags from what startServerSpan kept: [SERVER_TAGS, options, protocol, method, target, host
 * header, peer, caller, status, error]. The tags, their order and their values are those the request's start
 * and end once wrote themselves.
 */
function fillServerTags(into: TagMap, kept: PresetTags): void {
  const protocol = kept[2] as string;
  into['span.kind'] = 'server';
  into.component = protocol === 'https' ? 'https' : 'http';
  into['http.method'] = kept[3] as string;
  into['http.url'] = serverUrl(kept[1] as HttpOptions, protocol, kept[5], kept[4] as string | undefined);
  const peer = kept[6] as Peer | undefined;
  if (peer !== undefined) {
    if (peer.address !== undefined) {
      if (peer.ipv6) into['peer.ipv6'] = peer.address;
      else into['peer.ipv4'] = peer.address;
    }
    if (peer.port !== undefined) into['peer.port'] = peer.port;
  }
  const caller = kept[7];
  if (caller !== undefined) into['peer.service'] = caller as string;
  const status = kept[STATUS_AT];
  if (status !== undefined) into['http.status_code'] = status as number;
  const error = kept[ERROR_AT];
  if (error !== undefined) into.error = error as boolean;
}

function startServerSpan(tracer: Tracer, options: HttpOptions, protocol: string, req: TracedRequest, res: TracedResponse): Span | undefined {
  try {
    if (req === null || typeof req !== 'object' || res === null || typeof res !== 'object') return undefined;
    if (isIgnoredPath(req.url, options.ignorePaths)) return undefined;
    const headers = req.headers;
    const parent = tracer.extract(FORMAT_HTTP_HEADERS, headers, incomingGetter);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan(method, parent === null ? NEW_TRACE : { childOf: parent, ignoreActiveSpan: true });
    if (span.isRecording()) {
      const socket = req.socket;
      const caller = headers[options.peerServiceHeader];
      // What the tags are made from, as it is (see PresetTags and fillServerTags): no tag store, no URL joined
      // here. Strings do not change, and a connection's peer is kept on its socket already.
      presetTags(span, [
        SERVER_TAGS, options, protocol, method, req.url, headers.host, socket !== undefined && socket !== null ? peerOf(socket as PeerSocket) : undefined,
        typeof caller === 'string' && caller !== '' ? caller : undefined, undefined, undefined,
      ]);
      const captured = options.requestHeaders;
      if (captured.length > 0) {
        // Captured headers follow the start's tags (writableTags makes the store from them).
        const tags = writableTags(span);
        for (let i = 0; i < captured.length && tags !== null; i++) {
          const name = captured[i]!;
          const v = headers[name];
          if (v !== undefined) tags[`http.request.header.${name}`] = Array.isArray(v) ? v.join(', ') : v;
        }
      }
    }
    req[SERVER_SPAN] = span;
    // On unsampled requests too: a framework's per-layer read of the slot (express) then hits a property
    // instead of missing along the re-parented request's whole prototype chain.
    req[FRAMEWORK_STATE] = null;
    // Only when headers are to be captured: one more property on every response costs for nothing.
    if (options.responseHeaders.length > 0 && span.isRecording()) {
      (res as unknown as { [RESPONSE_HEADERS]: readonly string[] })[RESPONSE_HEADERS] = options.responseHeaders;
      responseHeadersWanted = true;
    }
    return span;
  } catch {
    return undefined;
  }
}

/**
 * A connection's peer, as its socket's `remoteAddress`/`remotePort` said at its first traced request.
 * The peer of a connection does not change (Node itself caches it, as `_peername`, at the first read),
 * and reading it through the two public getters costs, per request, two calls of `_getpeername` and a
 * dozen property loads on sockets of many shapes; kept on the socket, it is one load per request.
 */
interface Peer {
  readonly address: string | undefined;
  readonly ipv6: boolean;
  readonly port: number | undefined;
}

const PEER = Symbol('acme.tracing.peer');

interface PeerSocket {
  [PEER]?: Peer;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

/**
 * The socket's peer, kept on the socket once it has both an address and a port. Until then (not connected
 * yet, closed before its first read, a UNIX socket, a socket-like object of the app's) it is what the
 * getters say now, and the socket is asked again at its next request, as without the memo.
 */
function peerOf(socket: PeerSocket): Peer {
  const known = socket[PEER];
  if (known !== undefined) return known;
  const address = socket.remoteAddress;
  const port = socket.remotePort;
  const peer: Peer = { address, ipv6: address !== undefined && address.includes(':'), port };
  if (typeof address === 'string' && typeof port === 'number') {
    try {
      socket[PEER] = peer;
    } catch {
      // A frozen or sealed socket-like object: read it again next time.
    }
  }
  return peer;
}

// The last URL recorded and what it was made of. A server answers the same path from the same host
// again and again (an API endpoint, a health check, /graphql): those requests share one string instead
// of each making a new concatenation (two cons strings), which the exporter's encoder then had to
// flatten — a runtime call and a copy per exported span.
let lastRedactor: HttpOptions['redactor'] | null = null;
let lastProtocol = '';
let lastHost = '';
let lastTarget = '';
let lastUrl = '';

/** The request's URL as recorded (`http.url`), redacted. */
function serverUrl(options: HttpOptions, protocol: string, hostHeader: unknown, url: string | undefined): string {
  const host = typeof hostHeader === 'string' ? hostHeader : 'localhost';
  const target = url ?? '/';
  if (target.charCodeAt(0) === 47 /* / */) {
    const redactor = options.redactor;
    if (target === lastTarget && host === lastHost && protocol === lastProtocol && redactor === lastRedactor) return lastUrl;
    const joined = redactor.redactJoined(`${protocol}://${host}`, target);
    lastRedactor = redactor;
    lastProtocol = protocol;
    lastHost = host;
    lastTarget = target;
    lastUrl = joined;
    return joined;
  }
  // An absolute-form target (proxy requests) is a whole URL, credentials and all: redact it as one.
  return options.redactor.redact(target.includes('://') ? target : `${protocol}://${host}${target}`);
}

const RESPONSE_HEADERS = Symbol('acme.tracing.responseHeaders');
// Whether any response has been given headers to capture (RESPONSE_HEADERS), in this process.
let responseHeadersWanted = false;

/**
 * Wraps `IncomingMessage.prototype.emit`: a traced request's events run in the request's scope (see
 * `makeScopedEmitWrapper`), except an 'end' whose only listener is Node's own `clearIncoming`.
 */
export function makeRequestEmitWrapper(tracer: Tracer) {
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    // Guards its own code (installed with `ownGuard`): called on every event of every request. The
    // listeners are looked at first and once, the scope only when some listener will run.
    return function emitWithTrace(this: TracedRequest, event: unknown): boolean {
      let scope: Scope | undefined;
      try {
        const events = (this as { _events?: Record<string, unknown> })._events;
        if (event === 'end' ? endMayRunListeners(events) : listenersMayRun(events, event)) scope = this[EMITTER_SCOPE];
      } catch {
        scope = undefined;
      }
      if (scope === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return tracer.scopeManager.callIn!(scope, original, this, arguments);
    };
  };
}

/**
 * True when `req`'s only 'end' listener is Node's `clearIncoming` (the parser's bookkeeping, added
 * when the response finished before the body was read): it calls none of the app's code, so entering
 * the request's scope for it is an `AsyncLocalStorage` switch per request for nothing. Compared by
 * identity, like the response's 'finish' (see NODE_FINISH): one module-level function of Node's,
 * learnt from the first request that shows it. Anything else (an array, another function) is the app's.
 */
export function isOnlyClearIncoming(req: object): boolean {
  try {
    return isClearIncoming((req as unknown as { _events?: Record<string, unknown> })._events?.end);
  } catch {
    return false;
  }
}

/** `listenersMayRun` for 'end' (a named read, not a keyed one), false for Node's `clearIncoming` alone. */
function endMayRunListeners(events: Record<string, unknown> | undefined): boolean {
  if (events === null || typeof events !== 'object') return true;
  const listener = events.end;
  return listener !== undefined && !isClearIncoming(listener);
}

function isClearIncoming(listener: unknown): boolean {
  try {
    if (listener === undefined || listener === null) return false;
    if (listener === clearIncoming) return true;
    if (clearIncoming !== undefined || typeof listener !== 'function' || listener.name !== 'clearIncoming') return false;
    // Learnt once, and only from Node's own function (it reads the parser's `incoming`), not an app's of that name.
    if (!Function.prototype.toString.call(listener).includes('parser.incoming')) return false;
    clearIncoming = listener;
    return true;
  } catch {
    return false;
  }
}

let clearIncoming: Function | undefined;

/**
 * Wraps `ServerResponse.prototype.emit`: a traced response's events run in the request's scope (see
 * `makeScopedEmitWrapper`), and its 'close' finishes the server span before any listener of the app runs.
 * Watching 'close' here rather than adding a listener keeps `listenerCount('close')`, `listeners`
 * and `rawListeners` exactly what the app would see without the agent, and costs no listener array.
 */
export function makeResponseEmitWrapper(tracer: Tracer) {
  return function wrapEmit(original: (...args: unknown[]) => boolean) {
    // Guards its own code (installed with `ownGuard`): called on every event of every response. Each of
    // the response's properties is read once (the scope for 'close' serves both finishing and entering).
    return function emitWithTrace(this: TracedResponse, event: unknown): boolean {
      let scope: Scope | undefined;
      try {
        // 'close' and 'finish' by name: a keyed read of `_events` is a megamorphic lookup (its key varies).
        const events = this._events;
        if (event === 'close') {
          scope = this[EMITTER_SCOPE];
          finishServerSpan(this, scope);
          if (events !== null && typeof events === 'object' && events.close === undefined) scope = undefined;
        } else if (event === 'finish' ? finishMayRunListeners(this, events) : listenersMayRun(events, event)) scope = this[EMITTER_SCOPE];
      } catch {
        scope = undefined;
      }
      if (scope === undefined) return original.apply(this, arguments as unknown as unknown[]);
      return tracer.scopeManager.callIn!(scope, original, this, arguments);
    };
  };
}

function finishServerSpan(res: TracedResponse, scope: Scope | undefined): void {
  let span: Span | undefined;
  try {
    span = scope !== undefined ? scope.span : res[SERVER_SPAN];
    if (span === undefined || span.isFinished() || !span.isRecording()) return;
  } catch {
    return;
  }
  try {
    tagServerResult(res, span);
  } catch {
    // Reading the response must never keep the span open or reach the app.
  }
  try {
    span.finish();
  } catch {
    // Nor may finishing it.
  }
}

function tagServerResult(res: TracedResponse, span: Span): void {
  const status = res.statusCode;
  if (res.writableFinished) {
    // Into the kept tags while the span has them (the usual plain-http request; finishServerSpan has checked it
    // records and is not finished), else into its store.
    const kept = presetTagsOf(span);
    if (kept !== null) {
      kept[STATUS_AT] = status;
      if (status >= 500) kept[ERROR_AT] = true;
    } else {
      const tags = writableTags(span);
      if (tags === null) return;
      tags['http.status_code'] = status;
      if (status >= 500) tags.error = true;
    }
    // Not looked up unless some server captures response headers: a symbol every response lacks is
    // looked for along its whole prototype chain.
    const wanted = responseHeadersWanted ? (res as unknown as { [RESPONSE_HEADERS]?: readonly string[] })[RESPONSE_HEADERS] : undefined;
    if (wanted !== undefined) {
      for (const name of wanted) {
        const v = res.getHeader(name);
        if (v !== undefined) span.setTag(`http.response.header.${name}`, Array.isArray(v) ? v.join(', ') : String(v));
      }
    }
  } else {
    // The connection closed before the response was complete: the client went away.
    if (res.headersSent) span.setTag('http.status_code', status);
    span.setTag('error', true);
    span.log({ event: 'error', 'error.kind': 'aborted', message: 'connection closed before the response was complete' });
  }
}
