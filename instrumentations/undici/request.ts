import { splitOrigin } from '../../src/agent/instrumentation.js';

/**
 * Reading undici's internal `Request` objects as published on `undici:request:*` channels. The shape
 * changed across majors (headers were a `name: value\r\n` string in early 5.x, a flat array since,
 * an object for HTTP/2), so every read here is defensive and never throws.
 */

/** The fields of undici's `Request` that the channels hand us and that we read. */
export interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  path?: unknown;
  headers?: unknown;
  addHeader?: (name: string, value: string) => unknown;
}

/** True when `headers` (any undici shape) holds a header called `name` (lower-case). */
export function hasHeader(headers: unknown, name: string): boolean {
  if (typeof headers === 'string') return indexOfHeaderLine(headers, name) !== -1;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const key = headers[i];
      // Most names arrive lower-case already (fetch's always): compared as they are before lowering.
      if (typeof key === 'string' && key.length === name.length && (key === name || key.toLowerCase() === name)) return true;
    }
    return false;
  }
  if (headers !== null && typeof headers === 'object') {
    for (const key of Object.keys(headers)) {
      if (key.length === name.length && key.toLowerCase() === name) return true;
    }
  }
  return false;
}

function indexOfHeaderLine(block: string, name: string): number {
  const lower = block.toLowerCase();
  let from = 0;
  for (;;) {
    const at = lower.indexOf(name, from);
    if (at === -1) return -1;
    const startsLine = at === 0 || lower.charCodeAt(at - 1) === 10; /* \n */
    if (startsLine && lower.charCodeAt(at + name.length) === 58 /* : */) return at;
    from = at + name.length;
  }
}

/**
 * Undici's `fetch` (Node's global one and the npm one) always sends `sec-fetch-mode`; `request`,
 * `stream`, `pipeline` and the dispatchers send only what the caller gives them. That header is how a
 * fetch is told apart, since both publish on the same channels.
 */
export function isFetchRequest(request: UndiciRequest): boolean {
  return hasHeader(request.headers, 'sec-fetch-mode');
}

/** Host name (no brackets for IPv6) and port of an origin such as `http://[::1]:8080`. */
export interface Peer {
  hostname: string;
  port: number;
}

/** Splits an origin string (or URL) into host name and port; the scheme's default port when absent. */
export function parseOrigin(origin: unknown): Peer | null {
  const text = originText(origin);
  return text === undefined ? null : splitOrigin(text);
}

/** A request's origin as text (undici keeps a string; a URL when a caller handed one). */
export function originText(origin: unknown): string | undefined {
  return typeof origin === 'string' ? origin : origin instanceof URL ? origin.origin : undefined;
}

/** The full URL of a request: its origin and path, as sent. */
export function requestUrl(request: UndiciRequest): string {
  const origin = typeof request.origin === 'string' ? request.origin : request.origin instanceof URL ? request.origin.origin : '';
  const path = typeof request.path === 'string' ? request.path : '/';
  return origin.endsWith('/') && path.startsWith('/') ? origin + path.slice(1) : origin + path;
}

/** The `location` of a response (undici gives `[name, value, ...]` with Buffers or strings). */
export function locationHeader(headers: unknown): string | null {
  if (!Array.isArray(headers)) return null;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i];
    const name = typeof key === 'string' ? key : Buffer.isBuffer(key) ? key.toString('latin1') : '';
    if (name.length === 8 && name.toLowerCase() === 'location') {
      const value = headers[i + 1];
      if (typeof value === 'string') return value;
      if (Buffer.isBuffer(value)) return value.toString('latin1');
      return null;
    }
  }
  return null;
}

/**
 * Whether an error means the caller gave up: an `AbortSignal`/`controller.abort()` (an `AbortError`),
 * or a cancel with a reason of the caller's own (`controller.abort('why')`, `body.cancel()`, fetch
 * cancelling the body of a response that was garbage collected), which undici passes on as it is,
 * not as an `Error`. Everything undici or the network raise is an `Error`.
 */
export function isAbort(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return true;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR';
}
