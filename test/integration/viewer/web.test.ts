import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { hostGuard } from '../../../src/viewer/server.js';
import { startViewer, type Viewer } from '../../../src/viewer/viewer.js';
import { getJson, postOtlp, request, SseClient } from './viewer-client.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const XSS = '<img src=x onerror=alert(1)>';

function pageDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-page-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'assets', 'js'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>the page</title><script src="/assets/app.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'app.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'assets', 'js', 'tree.mjs'), 'export {}');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside assets');
  return dir;
}

async function viewer(t: Test, opts: Parameters<typeof startViewer>[0] = {}): Promise<Viewer> {
  const v = await startViewer({ port: 0, otlpPort: 0, events: { coalesceMs: 50 }, ...opts });
  t.teardown(() => v.close());
  return v;
}

function spans(traceId: string, list: { id: string; parent?: string; name: string; service?: string; error?: boolean; attrs?: Record<string, string> }[]): string {
  return JSON.stringify({
    resourceSpans: list.map((s) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service ?? 'web' } }] },
      scopeSpans: [{ scope: { name: 'test' }, spans: [{ traceId, spanId: s.id, parentSpanId: s.parent ?? '', name: s.name, kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000020000000', status: s.error === true ? { code: 2, message: 'failed' } : undefined, attributes: Object.entries(s.attrs ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })) }] }],
    })),
  });
}

t.test('the page: index.html at / and /trace/:id, assets with their types, strict headers', async (t) => {
  const v = await viewer(t, { pageDir: pageDir(t) });
  for (const p of ['/', `/trace/${TRACE}`]) {
    const r = await request(`${v.webUrl}${p}`);
    t.equal(r.status, 200, p);
    t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    t.match(r.body.toString(), /the page/);
    t.match(r.headers['content-security-policy'], /default-src 'self'/);
    t.notMatch(r.headers['content-security-policy'], /unsafe-inline/);
    t.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  const js = await request(`${v.webUrl}/assets/app.js`);
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  t.equal(js.body.toString(), 'console.log(1)');
  t.equal((await request(`${v.webUrl}/assets/app.css`)).headers['content-type'], 'text/css; charset=utf-8');
  t.equal((await request(`${v.webUrl}/assets/js/tree.mjs`)).status, 200, 'nested assets');
  t.equal((await request(`${v.webUrl}/assets/nope.js`)).status, 404);
});

t.test('no directory traversal out of assets/', async (t) => {
  const v = await viewer(t, { pageDir: pageDir(t) });
  for (const p of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/assets/js/..%2f..%2fsecret.txt', '/assets/%2fetc%2fpasswd', '/assets/..%5csecret.txt', '/assets/', '/assets/%00']) {
    const r = await request(`${v.webUrl}${p}`);
    t.not(r.status, 200, p);
    t.notMatch(r.body.toString(), /outside assets/, p);
  }
});

t.test('without a built page, a placeholder page is served', async (t) => {
  const v = await viewer(t, { pageDir: path.join(os.tmpdir(), 'no-such-viewer-page') });
  const r = await request(`${v.webUrl}/`);
  t.equal(r.status, 200);
  t.match(r.body.toString(), /\/api\/traces/);
  t.notMatch(r.body.toString(), /<script/);
});

t.test('Host header guard (DNS rebinding): only this machine\'s names', async (t) => {
  const v = await viewer(t);
  const port = new URL(v.webUrl).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) t.equal((await request(`${v.webUrl}/api/traces`, { headers: { host } })).status, 200, host);
  for (const host of [`evil.example:${port}`, 'attacker.com', '127.0.0.1.evil.com']) t.equal((await request(`${v.webUrl}/api/traces`, { headers: { host } })).status, 403, host);
  const any = hostGuard('0.0.0.0');
  t.ok(any('192.168.1.20:16686'), 'bound to all interfaces: IP literals');
  t.notOk(any('evil.example'), 'but still no foreign names');
  t.ok(hostGuard('10.0.0.5')('10.0.0.5:80'));
  t.notOk(hostGuard('10.0.0.5')('10.0.0.6:80'));
});

t.test('API: list with filters, one trace, OTLP download, 404s and 400s; values stay JSON data', async (t) => {
  const v = await viewer(t);
  await postOtlp(v.otlpUrl, spans(TRACE, [
    { id: '00f067aa0ba902b7', name: XSS, attrs: { 'http.route': '/a' } },
    { id: '00f067aa0ba902b8', parent: '00f067aa0ba902b7', name: 'SELECT', service: 'db', error: true },
  ]), 'application/json');
  await postOtlp(v.otlpUrl, spans('1af7651916cd43dd8448eb211c80319c', [{ id: '10f067aa0ba902b7', name: 'GET /b', attrs: { 'http.route': '/b' } }]), 'application/json');
  const list = await getJson(`${v.webUrl}/api/traces`);
  t.equal(list.matched, 2);
  t.same(list.services, ['db', 'web']);
  t.same(list.stats, { traces: 2, spans: 3, maxSpans: 100000, evictedTraces: 0, evictedSpans: 0, rejectedRequests: 0 });
  const q = async (query: string) => (await getJson(`${v.webUrl}/api/traces?${query}`)).traces.map((s: any) => s.traceId);
  t.same(await q('service=db'), [TRACE]);
  t.same(await q('errors=1'), [TRACE]);
  t.same(await q(`operation=${encodeURIComponent(XSS)}`), [TRACE]);
  t.same(await q('tag=http.route%3D%2Fb'), ['1af7651916cd43dd8448eb211c80319c']);
  t.same(await q('traceId=1AF7'), ['1af7651916cd43dd8448eb211c80319c']);
  t.same(await q('minDurationMs=100'), []);
  t.equal((await getJson(`${v.webUrl}/api/traces?limit=1`)).traces.length, 1);
  for (const bad of ['traceId=1a', 'limit=0', 'limit=x', 'minDurationMs=-1', 'tag=novalue', 'errors=maybe']) {
    const r = await request(`${v.webUrl}/api/traces?${bad}`);
    t.equal(r.status, 400, bad);
    t.type(JSON.parse(r.body.toString()).error, 'string');
  }

  const raw = await request(`${v.webUrl}/api/traces/${TRACE}`);
  t.equal(raw.headers['content-type'], 'application/json; charset=utf-8');
  t.notMatch(raw.body.toString(), /<img/, 'no raw markup in the JSON text');
  const trace = JSON.parse(raw.body.toString());
  t.equal(trace.spans[0].name, XSS, 'the name arrives intact as data');
  t.same(trace.spans.map((s: any) => s.service), ['web', 'db']);

  const dl = await request(`${v.webUrl}/api/traces/${TRACE}/otlp`);
  t.equal(dl.status, 200);
  t.match(dl.headers['content-disposition'], /^attachment; filename="trace-0af7651916cd43dd8448eb211c80319c\.otlp\.json"$/);
  const otlp = JSON.parse(dl.body.toString());
  t.equal(otlp.resourceSpans.length, 2, 'grouped by resource');
  t.same(otlp.resourceSpans.map((r: any) => r.resource.attributes[0].value.stringValue).sort(), ['db', 'web']);
  // What we offer for download, we accept back.
  const again = await startViewer({ port: 0, otlpPort: 0 });
  t.teardown(() => again.close());
  t.equal((await postOtlp(again.otlpUrl, dl.body, 'application/json')).status, 200);
  t.same((await getJson(`${again.webUrl}/api/traces/${TRACE}`)).spans.map((s: any) => [s.name, s.error]), [[XSS, false], ['SELECT', true]]);

  t.equal((await request(`${v.webUrl}/api/traces/${'f'.repeat(32)}`)).status, 404);
  t.equal((await request(`${v.webUrl}/api/traces/xyz`)).status, 400);
  t.equal((await request(`${v.webUrl}/api/nothing`)).status, 404);
  t.equal((await request(`${v.webUrl}/api/traces`, { method: 'POST' })).status, 405);
});

t.test('SSE: stats on connect, a coalesced traces event when spans arrive, forgotten on disconnect', async (t) => {
  const v = await viewer(t);
  const sse = await SseClient.open(`${v.webUrl}/api/events`);
  t.teardown(() => sse.close());
  const first = await sse.waitFor('stats', 0);
  t.equal(first.spans, 0);
  const from = sse.events.length;
  // Three requests in quick succession: one event (coalesced), with both traces.
  await postOtlp(v.otlpUrl, spans(TRACE, [{ id: '00f067aa0ba902b7', name: 'a' }]), 'application/json');
  await postOtlp(v.otlpUrl, spans(TRACE, [{ id: '00f067aa0ba902b8', parent: '00f067aa0ba902b7', name: 'b' }]), 'application/json');
  await postOtlp(v.otlpUrl, spans('1af7651916cd43dd8448eb211c80319c', [{ id: '10f067aa0ba902b7', name: 'c' }]), 'application/json');
  const update = await sse.waitFor('traces', from);
  await new Promise((r) => setTimeout(r, 150));
  const updates = sse.events.slice(from).filter((e) => e.event === 'traces');
  t.equal(updates.length, 1, 'coalesced into one event');
  t.same(update.traces.map((s: any) => [s.traceId, s.spanCount]).sort(), [[TRACE, 2], ['1af7651916cd43dd8448eb211c80319c', 1]].sort());
  t.equal(update.stats.spans, 3);
  t.equal(sse.events[0]!.data.includes('\n'), false);
  sse.close();
  await new Promise((r) => setTimeout(r, 100));
  await postOtlp(v.otlpUrl, spans(TRACE, [{ id: '00f067aa0ba902b9', name: 'd' }]), 'application/json');
  t.equal((await getJson(`${v.webUrl}/api/traces`)).stats.spans, 4, 'the server carries on');
});

t.test('SSE: heartbeat comments; a stats event after evictions', async (t) => {
  const v = await viewer(t, { maxSpans: 1, events: { coalesceMs: 20, heartbeatMs: 50 } });
  const sse = await SseClient.open(`${v.webUrl}/api/events`);
  t.teardown(() => sse.close());
  await sse.waitFor('stats', 0);
  await postOtlp(v.otlpUrl, spans(TRACE, [{ id: '00f067aa0ba902b7', name: 'a' }]), 'application/json');
  await postOtlp(v.otlpUrl, spans('1af7651916cd43dd8448eb211c80319c', [{ id: '10f067aa0ba902b7', name: 'c' }]), 'application/json');
  const stats = await sse.waitFor('stats', 1);
  t.equal(stats.evictedTraces, 1);
  await new Promise((r) => setTimeout(r, 120));
  t.ok(sse.comments.includes(': ping'), 'heartbeat comment line');
});

t.test('a bug while answering is a 500 for that request; the viewer stays up', async (t) => {
  const v = await viewer(t);
  const original = v.store.list.bind(v.store);
  v.store.list = () => {
    throw new Error('boom');
  };
  const r = await request(`${v.webUrl}/api/traces`);
  t.equal(r.status, 500);
  t.match(JSON.parse(r.body.toString()).error, /internal error in the viewer: Error: boom/);
  v.store.list = original;
  t.equal((await request(`${v.webUrl}/api/traces`)).status, 200);
});
