// A stand-in for the viewer's server that serves the built page and model.ts-shaped JSON from spans
// handed to it in the test: lets the page's own behaviour (missing parents, escaping, big traces) be
// checked without an OTLP round trip. Filters are not implemented; the real server's tests cover them.
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { StoreStats, TraceListResponse, TraceSummary, ViewSpan } from '../../../src/viewer/model.js';

/** The built page (npm run build), from dist/test/integration/viewer-page. */
export const PAGE_DIR = path.resolve(__dirname, '..', '..', '..', 'viewer-page');

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html; charset=utf-8' };
/** The policy the real server sends: the page must work under it. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface FakeViewer {
  webUrl: string;
  close(): Promise<void>;
}

/** Serves the page and the given spans on 127.0.0.1, a free port. */
export async function startFakeViewer(spans: readonly ViewSpan[]): Promise<FakeViewer> {
  const byTrace = new Map<string, ViewSpan[]>();
  for (const span of spans) {
    if (!byTrace.has(span.traceId)) byTrace.set(span.traceId, []);
    byTrace.get(span.traceId)!.push(span);
  }
  const stats: StoreStats = { traces: byTrace.size, spans: spans.length, maxSpans: 100_000, evictedTraces: 0, evictedSpans: 0, rejectedRequests: 0 };
  const server = http.createServer((req, res) => {
    void handle(req.url ?? '/').then(({ status, type, body }) => {
      res.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store' });
      res.end(body);
    });
  });
  const handle = async (url: string): Promise<{ status: number; type: string; body: string | Buffer }> => {
    const { pathname } = new URL(url, 'http://x');
    const json = (value: unknown, status = 200) => ({ status, type: 'application/json', body: JSON.stringify(value) });
    if (pathname === '/api/traces') {
      const traces = [...byTrace.values()].map(summarize).sort((a, b) => b.startMs - a.startMs);
      const response: TraceListResponse = { traces, matched: traces.length, stats, services: [...new Set(spans.map((s) => s.service))], operations: [...new Set(spans.map((s) => s.name))] };
      return json(response);
    }
    const trace = /^\/api\/traces\/([0-9a-f]+)$/.exec(pathname);
    if (trace) {
      const list = byTrace.get(trace[1]!);
      return list ? json({ traceId: trace[1], spans: [...list].sort((a, b) => a.startMs - b.startMs) }) : json({ error: 'unknown trace' }, 404);
    }
    if (pathname === '/api/events') return { status: 204, type: 'text/event-stream', body: '' };
    if (pathname.startsWith('/assets/') && !pathname.includes('..')) {
      try {
        return { status: 200, type: TYPES[path.extname(pathname)] ?? 'application/octet-stream', body: await readFile(path.join(PAGE_DIR, pathname)) };
      } catch {
        return { status: 404, type: 'text/plain', body: 'not found' };
      }
    }
    return { status: 200, type: TYPES['.html']!, body: await readFile(path.join(PAGE_DIR, 'index.html')) };
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    webUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function summarize(spans: ViewSpan[]): TraceSummary {
  const root = spans.find((s) => !s.parentSpanId) ?? [...spans].sort((a, b) => a.startMs - b.startMs)[0]!;
  const start = spans.reduce((m, s) => Math.min(m, s.startMs), Infinity);
  const end = spans.reduce((m, s) => Math.max(m, s.startMs + s.durationMs), -Infinity);
  return {
    traceId: root.traceId, rootService: root.service, rootName: root.name, hasRoot: spans.some((s) => !s.parentSpanId),
    startMs: start, durationMs: end - start, spanCount: spans.length, services: [...new Set(spans.map((s) => s.service))],
    errorCount: spans.filter((s) => s.error).length, updatedMs: Date.now(),
  };
}
