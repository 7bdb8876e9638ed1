// The viewer's web port: the page (index.html and its assets, from the folder the page build
// fills), the JSON API of model.ts and the live event stream. Every answer carries a strict
// Content-Security-Policy and nosniff; span values only ever leave as JSON data. Requests whose
// Host header is not this machine are refused, so a web page on another site cannot read the
// traces through DNS rebinding.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describeError } from '../util/log.js';
import { jsonText } from './json-text.js';
import type { LiveEvents } from './live-events.js';
import type { TraceResponse } from './model.js';
import { toOtlpJson } from './otlp-json-encoder.js';
import { PLACEHOLDER_PAGE } from './placeholder-page.js';
import { MAX_LIST_LIMIT, type TraceQuery, type TraceStore } from './store.js';
import type { LogStore } from './log-store.js';

/** `dist/viewer-page/` beside the compiled `dist/src/viewer/`: where the page build puts index.html and assets/. */
export const DEFAULT_PAGE_DIR = path.resolve(__dirname, '..', '..', 'viewer-page');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
});

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const TRACE_ID = /^[0-9a-f]{32}$/;
const TRACE_ID_PREFIX = /^[0-9a-f]{4,32}$/;

export interface WebOptions {
  store: TraceStore;
  /** Log records shown with their trace; none when absent. */
  logs?: LogStore;
  events: LiveEvents;
  /** The folder holding index.html and assets/. */
  pageDir?: string;
  /** The address the web port is bound to: requests naming it in Host are accepted too. */
  host: string;
}

/** Returns the request handler of the web port. */
export function createWebHandler(options: WebOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const pageDir = path.resolve(options.pageDir ?? DEFAULT_PAGE_DIR);
  const assetsDir = path.join(pageDir, 'assets');
  const hostAllowed = hostGuard(options.host);
  const route = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!hostAllowed(req.headers.host)) return json(res, 403, { error: 'Host header not allowed: open the viewer by the address it printed' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: `method ${req.method} not allowed` }, { allow: 'GET, HEAD' });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://viewer.invalid');
    } catch {
      return json(res, 400, { error: 'bad request URL' });
    }
    const p = url.pathname;
    if (p === '/' || p === '/index.html' || /^\/trace\/[^/]+\/?$/.test(p)) return sendIndex(res, pageDir);
    if (p.startsWith('/assets/')) return sendAsset(res, assetsDir, p.slice('/assets/'.length));
    if (p === '/api/traces') return listTraces(res, options.store, url.searchParams);
    if (p === '/api/events') return options.events.attach(req, res, SECURITY_HEADERS);
    const m = /^\/api\/traces\/([^/]+)(\/otlp)?$/.exec(p);
    if (m !== null) return sendTrace(res, options.store, options.logs, m[1]!.toLowerCase(), m[2] !== undefined);
    json(res, 404, { error: `not found: ${p}` });
  };
  return (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      // A bug of ours answers this one request with a 500; the viewer and its traces stay up.
      json(res, 500, { error: `internal error in the viewer: ${describeError(err)}` });
    }
  };
}

function listTraces(res: http.ServerResponse, store: TraceStore, params: URLSearchParams): void {
  const parsed = parseQuery(params);
  if (typeof parsed === 'string') return json(res, 400, { error: parsed });
  json(res, 200, store.list(parsed));
}

/** The `GET /api/traces` query, or an error message naming the bad parameter. */
export function parseQuery(params: URLSearchParams): TraceQuery | string {
  const q: TraceQuery = {};
  const get = (name: string): string | undefined => {
    const v = params.get(name);
    return v === null || v === '' ? undefined : v;
  };
  q.service = get('service');
  q.operation = get('operation');
  const min = get('minDurationMs');
  if (min !== undefined) {
    const n = Number(min);
    if (!Number.isFinite(n) || n < 0) return `minDurationMs must be a number of milliseconds ≥ 0, got "${min}"`;
    q.minDurationMs = n;
  }
  const errors = get('errors');
  if (errors !== undefined) {
    if (!['1', 'true', '0', 'false'].includes(errors)) return `errors must be 1 or 0, got "${errors}"`;
    q.errorsOnly = errors === '1' || errors === 'true';
  }
  const tag = get('tag');
  if (tag !== undefined) {
    const eq = tag.indexOf('=');
    if (eq <= 0) return `tag must be key=value, got "${tag}"`;
    q.tag = { key: tag.slice(0, eq), value: tag.slice(eq + 1) };
  }
  const traceId = get('traceId');
  if (traceId !== undefined) {
    const prefix = traceId.trim().toLowerCase();
    if (!TRACE_ID_PREFIX.test(prefix)) return `traceId must be 4 to 32 hex characters, got "${traceId}"`;
    q.traceIdPrefix = prefix;
  }
  const limit = get('limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1) return `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got "${limit}"`;
    q.limit = Math.min(n, MAX_LIST_LIMIT);
  }
  return q;
}

function sendTrace(res: http.ServerResponse, store: TraceStore, logs: LogStore | undefined, traceId: string, asOtlp: boolean): void {
  if (!TRACE_ID.test(traceId)) return json(res, 400, { error: 'a trace id is 32 hex characters' });
  const spans = store.spans(traceId);
  if (spans === undefined) return json(res, 404, { error: `trace ${traceId} is not in the viewer (never received, or evicted)` });
  if (!asOtlp) {
    const body: TraceResponse = { traceId, spans: [...spans], logs: logs === undefined ? [] : [...logs.forTrace(traceId)] };
    return json(res, 200, body);
  }
  json(res, 200, toOtlpJson(spans), { 'content-disposition': `attachment; filename="trace-${traceId}.otlp.json"` });
}

function sendIndex(res: http.ServerResponse, pageDir: string): void {
  fs.readFile(path.join(pageDir, 'index.html'), (err, data) => {
    send(res, 200, CONTENT_TYPES['.html']!, err === null ? data : Buffer.from(PLACEHOLDER_PAGE));
  });
}

function sendAsset(res: http.ServerResponse, assetsDir: string, rel: string): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return json(res, 400, { error: 'bad asset path' });
  }
  // Only plain relative names below assets/: no '..', no absolute paths, no NUL, no backslashes.
  const parts = decoded.split('/');
  if (decoded === '' || decoded.includes('\0') || decoded.includes('\\') || parts.some((s) => s === '' || s === '.' || s === '..')) {
    return json(res, 404, { error: 'not found' });
  }
  const file = path.join(assetsDir, ...parts);
  if (!file.startsWith(assetsDir + path.sep)) return json(res, 404, { error: 'not found' });
  fs.readFile(file, (err, data) => {
    if (err !== null) return json(res, 404, { error: `no asset ${decoded}` });
    send(res, 200, CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', data);
  });
}

function json(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', Buffer.from(jsonText(body)), extra);
}

function send(res: http.ServerResponse, status: number, type: string, body: Buffer, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(body.length), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Which Host headers the web port answers. Loopback names always; the bound address; and when
 * bound to all interfaces, any IP literal and this machine's name. A DNS-rebinding attacker's page
 * sends its own domain name, which is none of these.
 */
export function hostGuard(boundHost: string): (header: string | undefined) => boolean {
  const bound = boundHost.toLowerCase().replace(/^\[|\]$/g, '');
  const anyInterface = bound === '0.0.0.0' || bound === '::';
  const machine = safeHostname();
  return (header) => {
    if (header === undefined) return false;
    const h = header.trim().toLowerCase();
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']') < 0 ? h.length : h.indexOf(']')) : h.split(':', 1)[0]!;
    if (name === 'localhost' || name.endsWith('.localhost') || name === '127.0.0.1' || name === '::1' || name === bound) return true;
    if (anyInterface) return isIP(name) !== 0 || name === machine;
    return false;
  };
}

function safeHostname(): string {
  try {
    return hostname().toLowerCase();
  } catch {
    return '';
  }
}
