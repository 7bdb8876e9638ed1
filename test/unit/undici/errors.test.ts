import t from 'tap';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { closedPort, startServer, startTracing } from './harness.js';

// A server that sends headers and a first chunk, then never finishes: for timeouts and aborts.
const stalls = (_req: unknown, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('first chunk');
};
// A server that never answers at all.
const silent = (): void => undefined;

function errorLog(fields: readonly { fields: Readonly<Record<string, unknown>> }[]): Readonly<Record<string, unknown>> | undefined {
  return fields.find((l) => l.fields.event === 'error')?.fields;
}

t.test('connection refused: fetch and undici.request finish their span with error=true', async (t) => {
  const undici = await import('undici7');
  const traced = startTracing();
  t.teardown(() => traced.stop());
  const base = `http://127.0.0.1:${await closedPort()}`;
  const fetchErr = await fetch(base).catch((e: unknown) => e);
  t.type(fetchErr, TypeError, 'fetch still rejects with its own TypeError');
  await t.rejects(undici.request(base), { code: 'ECONNREFUSED' }, 'undici still rejects with ECONNREFUSED');
  const spans = traced.clientSpans();
  t.same(spans.map((s) => s.tags.component).sort(), ['fetch', 'undici'], 'one span per request');
  for (const span of spans) {
    t.equal(span.tags.error, true, `${span.tags.component}: error=true`);
    t.notOk('http.status_code' in span.tags, 'no status code without a response');
    t.notOk('http.aborted' in span.tags, 'a refused connection is not an abort');
    t.match(errorLog(span.logs), { 'error.kind': 'Error', message: /ECONNREFUSED/ }, 'the cause is logged');
  }
});

t.test('timeouts finish the span with error=true, and are not recorded as aborts', async (t) => {
  const undici = await import('undici7');
  const traced = startTracing();
  const server = await startServer(silent);
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  await t.rejects(fetch(server.base, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
  await t.rejects(undici.request(server.base, { headersTimeout: 50 }), { code: 'UND_ERR_HEADERS_TIMEOUT' });
  const byComponent = new Map(traced.clientSpans().map((s) => [s.tags.component, s]));
  t.match(byComponent.get('fetch')?.tags, { error: true });
  t.match(errorLog(byComponent.get('fetch')?.logs ?? []), { 'error.kind': 'TimeoutError' });
  t.match(byComponent.get('undici')?.tags, { error: true });
  t.match(errorLog(byComponent.get('undici')?.logs ?? []), { 'error.kind': 'HeadersTimeoutError' });
  for (const span of byComponent.values()) t.notOk('http.aborted' in span.tags, 'a timeout is not a caller abort');
});

t.test('an abort by the caller finishes the span as aborted, before or after the headers', async (t) => {
  const undici = await import('undici7');
  const traced = startTracing();
  const server = await startServer(stalls);
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });

  const beforeHeaders = new AbortController();
  const pending = fetch(`${server.base}/never`, { signal: beforeHeaders.signal });
  beforeHeaders.abort();
  await t.rejects(pending, { name: 'AbortError' }, 'fetch rejects as it would without tracing');

  const duringBody = new AbortController();
  const res = await fetch(`${server.base}/body`, { signal: duringBody.signal });
  const text = res.text();
  duringBody.abort();
  await t.rejects(text, { name: 'AbortError' });

  const viaUndici = new AbortController();
  const request = undici.request(`${server.base}/undici`, { signal: viaUndici.signal });
  setImmediate(() => viaUndici.abort());
  await t.rejects(request, { name: 'AbortError' });

  const spans = traced.clientSpans();
  t.equal(spans.length, 3, 'every aborted request has a finished span');
  for (const span of spans) {
    t.match(span.tags, { error: true, 'http.aborted': true }, `${span.tags['http.url']}: aborted by the caller`);
  }
});

t.test('a body never read: the span ends when the caller drops or destroys it, not before', async (t) => {
  const undici = await import('undici7');
  const traced = startTracing();
  const big = Buffer.alloc(1024 * 1024, 97);
  const server = await startServer((_req, res) => res.end(big));
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  const res = await undici.request(`${server.base}/destroyed`);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(traced.clientSpans().length, 0, 'open while undici holds the unread body (it holds the connection too)');
  res.body.destroy();
  await new Promise((r) => setTimeout(r, 30));
  t.match(traced.clientSpans()[0]?.tags, { 'http.status_code': 200, 'http.aborted': true }, 'destroying the body ends it as aborted');

  // fetch cancels the body of a Response that is garbage collected; the span ends with it.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  await (async () => {
    const dropped = await fetch(`${server.base}/dropped`);
    t.equal(dropped.status, 200);
  })();
  for (let i = 0; i < 20 && traced.clientSpans().length < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const droppedSpan = traced.clientSpans().find((s) => String(s.tags['http.url']).endsWith('/dropped'));
  t.match(droppedSpan?.tags, { component: 'fetch', 'http.aborted': true }, 'a dropped fetch response ends its span as aborted');
});

t.test('a request undici drops without a final event: the safety net finishes its span once the request is collected', async (t) => {
  const { sweepAbandoned } = await import('../../../instrumentations/undici/channels.js');
  const dc = await import('node:diagnostics_channel');
  const traced = startTracing();
  t.teardown(() => traced.stop());
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Requests shaped as undici publishes them; one is kept, one is dropped after its create event.
  const request = (path: string): Record<string, unknown> => {
    const headers: string[] = ['sec-fetch-mode', 'cors'];
    return { origin: 'http://127.0.0.1:9', method: 'GET', path, headers, addHeader: (k: string, v: string) => headers.push(k, v) };
  };
  const kept = request('/kept');
  dc.channel('undici:request:create').publish({ request: kept });
  (() => {
    dc.channel('undici:request:create').publish({ request: request('/dropped') });
  })();
  // The WeakRef of the dropped request lives until the end of this job: collect on later turns.
  for (let i = 0; i < 20 && traced.clientSpans().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
    sweepAbandoned();
  }
  const spans = traced.clientSpans();
  t.equal(spans.length, 1, 'only the dropped request has its span finished');
  t.match(spans[0]?.tags, { component: 'fetch', 'http.url': 'http://127.0.0.1:9/dropped' }, 'it is the dropped one');
  t.ok(spans[0]?.logs.some((l) => l.fields.event === 'abandoned'), 'with an abandoned log');
  dc.channel('undici:request:trailers').publish({ request: kept, trailers: [] });
  t.equal(traced.clientSpans().length, 2, 'the kept one ends with its own final event');
  t.notOk(traced.clientSpans()[1]?.logs.some((l) => l.fields.event === 'abandoned'), 'not as abandoned');
});
