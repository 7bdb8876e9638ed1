import {
  describeError, FORMAT_HTTP_HEADERS, log, recordError, splitOrigin, Tags,
  type AgentSettings, type CarrierSetter, type ClientPeer, type InstrumentationContext, type Span, type SpanContext, type Tracer, type UrlRedactor,
} from '../../src/agent/instrumentation.js';
import {
  hasHeader, isAbort, isFetchRequest, locationHeader, originText, requestUrl, type UndiciRequest,
} from './request.js';

/**
 * Client spans for every request undici makes — Node's bundled copy behind the global `fetch` and any
 * npm copy alike — driven by undici's own `diagnostics_channel` events. Channels are process-wide by
 * name and each request is published by the one undici copy that sends it, so one subscriber sees
 * every request exactly once, whichever copies are loaded.
 */

/** `fetch` (global or npm `undici.fetch`) or `undici` (request, stream, pipeline, dispatchers). */
export type UndiciComponent = 'fetch' | 'undici';

/**
 * The options of `undici` and of `fetch`, from their sections of the config file (their own
 * `peerServices` there are applied by `ctx.startClientSpan`).
 */
export interface UndiciOptions {
  redactor: UrlRedactor;
}

export type UndiciContext = InstrumentationContext<UndiciOptions>;

/** What one component traces with; built once when it starts, read per request. */
interface ComponentSettings extends UndiciOptions {
  component: UndiciComponent;
  tracer: Tracer;
  isSuppressed(): boolean;
  startClientSpan: UndiciContext['startClientSpan'];
  writableTags: UndiciContext['writableTags'];
  /** Request → its call, for this component's requests. Weak: a request undici drops takes its entry with it. */
  openCalls: WeakMap<object, ClientCall>;
  /** Origin → its peer, split once (an app talks to a handful of origins); cleared when it grows past PEER_CACHE_SIZE. */
  peers: Map<string, ClientPeer>;
}

const PEER_CACHE_SIZE = 256;

interface CreateMessage { request: UndiciRequest }
interface HeadersMessage { request: UndiciRequest; response?: { statusCode?: unknown; headers?: unknown } }
interface ErrorMessage { request: UndiciRequest; error: unknown }

const CHANNEL_CREATE = 'undici:request:create';
const CHANNEL_HEADERS = 'undici:request:headers';
const CHANNEL_TRAILERS = 'undici:request:trailers';
const CHANNEL_ERROR = 'undici:request:error';

/** Set on a span whose request the caller aborted (with `error=true`, since the call did not complete). */
export const TAG_ABORTED = 'http.aborted';


/** One traced request: its span, and the parent it was started under (for redirect hops). */
interface ClientCall {
  span: Span;
  parent: SpanContext | null;
  /** Where a 3xx response points (absolute), until the response completes. */
  redirectTo: string | null;
  /** The request, weakly, for a recording span (the safety net's sweep); null for one that records nothing. */
  request: WeakRef<UndiciRequest> | null;
}

/**
 * The safety net for a request undici drops without a final event (see docs/undici.md): its span is
 * finished, with an `abandoned` log, once the request object has been garbage collected. Each open
 * recording call holds a WeakRef to its request and sits in this set until its final event; a sweep
 * every few seconds (unref'd, running only while a call is open) finishes the calls whose request is
 * gone (exported for its test). A FinalizationRegistry did the same per request at ~3 µs of GC time per request
 * (benchmarks/micro/undici-channels.mjs); a WeakRef and a set entry cost a small fraction of that.
 */
const openRecordingCalls = new Set<ClientCall>();
const SWEEP_INTERVAL_MS = 5000;
let sweepTimer: ReturnType<typeof setInterval> | null = null;

function watchAbandoned(call: ClientCall): void {
  openRecordingCalls.add(call);
  if (sweepTimer === null) {
    sweepTimer = setInterval(sweepAbandoned, SWEEP_INTERVAL_MS);
    sweepTimer.unref();
  }
}

export function sweepAbandoned(): void {
  for (const call of openRecordingCalls) {
    if (call.request!.deref() !== undefined) continue;
    openRecordingCalls.delete(call);
    try {
      if (call.span.isFinished()) continue;
      call.span.log({ event: 'abandoned', message: 'the request was garbage collected before its response ended' });
      call.span.finish();
    } catch (err) {
      internalError('undici gc', err);
    }
  }
  if (openRecordingCalls.size === 0 && sweepTimer !== null) {
    clearInterval(sweepTimer);
    sweepTimer = null;
  }
}

// undici's own redirect handler (`maxRedirections`, the redirect interceptor) sends the next hop
// from inside the previous response's completion, that is in the socket's async context, which
// belongs to whichever request opened the connection. For that one synchronous stretch, the hop's
// parent is taken from the redirected request instead: hops are siblings, as with fetch.
let hopUrl: string | null = null;
let hopParent: SpanContext | null = null;
const clearHop = (): void => {
  hopUrl = null;
  hopParent = null;
};

/** Adds each propagation header unless the caller already set one of that name. */
const requestSetter: CarrierSetter = {
  set(carrier, name, value) {
    const request = carrier as UndiciRequest;
    if (typeof request.addHeader === 'function' && !hasHeader(request.headers, name)) request.addHeader(name, value);
  },
};

function internalError(key: string, err: unknown): void {
  log.warnOnce(key, `internal error in ${key}, the request goes on untraced: ${describeError(err)}`);
}

// Both components subscribe to the same channels; each takes the requests that are its own.
function onCreate(settings: ComponentSettings, message: unknown): void {
  if (settings.isSuppressed()) return;
  const request = (message as CreateMessage | null)?.request;
  if (request === null || typeof request !== 'object') return;
  const component: UndiciComponent = isFetchRequest(request) ? 'fetch' : 'undici';
  if (component !== settings.component) return;
  try {
    startClientSpan(request, component, settings);
  } catch (err) {
    internalError('undici request', err);
  }
}

function startClientSpan(request: UndiciRequest, component: UndiciComponent, settings: ComponentSettings): void {
  const tracer = settings.tracer;
  const method = typeof request.method === 'string' ? request.method : 'GET';
  // The URL is built only for a span that records it (or a redirect hop to match).
  const target = peerOf(settings, request.origin);
  let parent: SpanContext | null;
  let span: Span;
  if (hopUrl !== null && sameUrl(requestUrl(request), hopUrl)) {
    parent = hopParent;
    clearHop();
    span = settings.startClientSpan(method, target, parent);
  } else {
    const active = tracer.activeSpan();
    parent = active === null ? null : active.context();
    span = settings.startClientSpan(method, target);
  }
  const tags = settings.writableTags(span);
  if (tags !== null) {
    tags[Tags.HTTP_METHOD] = method;
    tags[Tags.HTTP_URL] = recordedUrl(request, settings.redactor);
  }
  tracer.inject(span, FORMAT_HTTP_HEADERS, request, requestSetter);
  // Only a span that records has anything to lose: an unsampled one costs no WeakRef.
  const call: ClientCall = { span, parent, redirectTo: null, request: tags !== null ? new WeakRef(request) : null };
  settings.openCalls.set(request, call);
  if (call.request !== null) watchAbandoned(call);
}

/** The peer of an origin, split once per origin and kept (the same object for every request to it). */
function peerOf(settings: ComponentSettings, originValue: unknown): ClientPeer {
  const origin = originText(originValue);
  if (origin === undefined) return { component: settings.component };
  let peer = settings.peers.get(origin);
  if (peer === undefined) {
    const split = splitOrigin(origin);
    peer = split === null ? { component: settings.component, origin } : { component: settings.component, hostname: split.hostname, port: split.port };
    if (settings.peers.size >= PEER_CACHE_SIZE) settings.peers.clear();
    settings.peers.set(origin, peer);
  }
  return peer;
}

/** The request's URL as recorded, redacted: origin and path checked as they are (see redactJoined). */
function recordedUrl(request: UndiciRequest, redactor: ComponentSettings['redactor']): string {
  const { origin, path } = request;
  // An origin ending in `/` is joined by requestUrl (one slash between them).
  if (typeof origin === 'string' && typeof path === 'string' && !origin.endsWith('/')) return redactor.redactJoined(origin, path);
  return redactor.redact(requestUrl(request));
}

function sameUrl(sent: string, expected: string): boolean {
  if (sent === expected) return true;
  try {
    return new URL(sent).href === expected;
  } catch {
    return false;
  }
}

function onHeaders(settings: ComponentSettings, message: unknown): void {
  const request = (message as HeadersMessage | null)?.request;
  if (request === null || typeof request !== 'object') return;
  const call = settings.openCalls.get(request);
  if (call === undefined) return;
  try {
    const response = (message as HeadersMessage).response;
    const status = response?.statusCode;
    if (typeof status !== 'number') return;
    call.span.setTag(Tags.HTTP_STATUS_CODE, status);
    if (status >= 400) call.span.setTag(Tags.ERROR, true);
    else if (status >= 300) call.redirectTo = redirectTarget(request, response!.headers);
  } catch (err) {
    internalError('undici response', err);
  }
}

function redirectTarget(request: UndiciRequest, headers: unknown): string | null {
  const location = locationHeader(headers);
  if (location === null) return null;
  try {
    return new URL(location, requestUrl(request)).href;
  } catch {
    return null;
  }
}

function onTrailers(settings: ComponentSettings, message: unknown): void {
  const request = (message as CreateMessage | null)?.request;
  if (request === null || typeof request !== 'object') return;
  const call = settings.openCalls.get(request);
  if (call === undefined) return;
  settings.openCalls.delete(request);
  if (call.request !== null) openRecordingCalls.delete(call);
  if (call.redirectTo !== null) {
    // undici's redirect handler dispatches the hop right after this event, in the same stretch of
    // synchronous code; fetch sends its hop a few promise turns later, in the caller's context anyway.
    hopUrl = call.redirectTo;
    hopParent = call.parent;
    queueMicrotask(clearHop);
  }
  call.span.finish();
}

function onError(settings: ComponentSettings, message: unknown): void {
  const request = (message as ErrorMessage | null)?.request;
  if (request === null || typeof request !== 'object') return;
  const call = settings.openCalls.get(request);
  if (call === undefined) return;
  settings.openCalls.delete(request);
  if (call.request !== null) openRecordingCalls.delete(call);
  try {
    const error = (message as ErrorMessage).error;
    recordError(call.span, error);
    // An abort is the caller giving up, not the server failing: say so, so it can be told apart.
    if (isAbort(error)) call.span.setTag(TAG_ABORTED, true);
  } catch (err) {
    internalError('undici error', err);
  }
  call.span.finish();
}

/**
 * Reads a component's section of the config file: `sensitiveQueryParams` there overrides the
 * agent-wide setting.
 */
export function readUndiciOptions(config: Readonly<Record<string, unknown>>, settings: AgentSettings): UndiciOptions {
  const sensitive = Array.isArray(config.sensitiveQueryParams)
    ? config.sensitiveQueryParams.filter((p): p is string => typeof p === 'string')
    : [];
  return {
    // A list, even an empty one, replaces the agent-wide one (TRACING_REDACT_QUERY_PARAMS).
    redactor: Array.isArray(config.sensitiveQueryParams) ? settings.redactorFor(sensitive) : settings.urlRedactor,
  };
}

/**
 * Starts tracing one component: subscribes to undici's channels through `ctx.subscribe` (guarded;
 * the loader's record unsubscribes). Spans still open when that happens get no more events; the
 * garbage-collection safety net finishes them.
 */
export function subscribeComponent(component: UndiciComponent, ctx: UndiciContext): void {
  const settings: ComponentSettings = {
    ...ctx.options,
    component,
    tracer: ctx.tracer,
    isSuppressed: ctx.isSuppressed,
    startClientSpan: ctx.startClientSpan,
    writableTags: ctx.writableTags,
    openCalls: new WeakMap(),
    peers: new Map(),
  };
  ctx.subscribe(CHANNEL_CREATE, (message) => onCreate(settings, message));
  ctx.subscribe(CHANNEL_HEADERS, (message) => onHeaders(settings, message));
  ctx.subscribe(CHANNEL_TRAILERS, (message) => onTrailers(settings, message));
  ctx.subscribe(CHANNEL_ERROR, (message) => onError(settings, message));
}
