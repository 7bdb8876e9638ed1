import t from 'tap';
import { TraceStore } from '../../../src/viewer/store.js';
import { makeSpan } from './make-span.js';

t.test('a trace grows across requests, in any order; the root names it once it arrives', async (t) => {
  const store = new TraceStore(100);
  store.add([makeSpan(1, 3, { parent: 2, startMs: 1000, durationMs: 5, service: 'db', name: 'SELECT' })]);
  let s = store.summary(makeSpan(1, 1).traceId)!;
  t.equal(s.hasRoot, false);
  t.equal(s.rootName, 'SELECT', 'until the root arrives, the earliest span names the trace');
  store.add([makeSpan(1, 2, { parent: 1, startMs: 990, durationMs: 30, service: 'api', name: 'handler' })]);
  s = store.summary(makeSpan(1, 1).traceId)!;
  t.equal(s.rootName, 'handler', 'an earlier span takes over');
  store.add([makeSpan(1, 1, { startMs: 995, durationMs: 100, service: 'web', name: 'GET /', error: true })]);
  s = store.summary(makeSpan(1, 1).traceId)!;
  t.same(
    { hasRoot: s.hasRoot, rootName: s.rootName, rootService: s.rootService, startMs: s.startMs, durationMs: s.durationMs, spanCount: s.spanCount, services: s.services, errorCount: s.errorCount },
    { hasRoot: true, rootName: 'GET /', rootService: 'web', startMs: 990, durationMs: 105, spanCount: 3, services: ['api', 'db', 'web'], errorCount: 1 },
  );
  t.same(store.spans(s.traceId)!.map((x) => x.name), ['handler', 'GET /', 'SELECT'], 'spans come back in start order');
});

t.test('duplicates are ignored and not returned as added', async (t) => {
  const store = new TraceStore(100);
  t.equal(store.add([makeSpan(1, 1), makeSpan(1, 1)]).length, 1);
  t.equal(store.add([makeSpan(1, 1)]).length, 0);
  t.equal(store.stats().spans, 1);
});

t.test('over the bound, the oldest traces are evicted whole and counted', async (t) => {
  const store = new TraceStore(10);
  for (let trace = 1; trace <= 4; trace++) store.add([1, 2, 3].map((i) => makeSpan(trace, trace * 10 + i, { name: `t${trace}` })));
  t.same(store.stats(), { traces: 3, spans: 9, maxSpans: 10, evictedTraces: 1, evictedSpans: 3, rejectedRequests: 0 });
  t.equal(store.summary(makeSpan(1, 0).traceId), undefined, 'trace 1 (oldest) is gone');
  t.equal(store.spans(makeSpan(1, 0).traceId), undefined);
  t.ok(store.summary(makeSpan(4, 0).traceId));
  const list = store.list();
  t.notOk(list.operations.includes('t1'), 'its operation left the drop-down');
  // A trace that keeps growing is not evicted to make room for itself.
  const big = new TraceStore(5);
  big.add([1, 2, 3, 4, 5, 6, 7].map((i) => makeSpan(9, i)));
  t.same(big.stats(), { traces: 1, spans: 5, maxSpans: 5, evictedTraces: 0, evictedSpans: 2, rejectedRequests: 0 });
});

t.test('the bound holds under a stream of many small traces', async (t) => {
  const store = new TraceStore(1000);
  for (let i = 0; i < 5000; i++) store.add([makeSpan(i + 1, 1, { startMs: 1000 + i }), makeSpan(i + 1, 2, { parent: 1, startMs: 1000 + i })]);
  const s = store.stats();
  t.equal(s.spans, 1000);
  t.equal(s.traces, 500);
  t.equal(s.evictedTraces, 4500);
  t.equal(s.evictedSpans, 9000);
  t.equal(store.list({ limit: 1000 }).traces[0]!.traceId, makeSpan(5000, 1).traceId);
});

t.test('list: newest first, limit and matched, and every filter', async (t) => {
  const store = new TraceStore(1000);
  store.add([
    makeSpan(0xa1, 1, { startMs: 1000, durationMs: 50, service: 'web', name: 'GET /a', attributes: [{ key: 'http.status_code', value: 200 }] }),
    makeSpan(0xa1, 2, { parent: 1, startMs: 1010, durationMs: 5, service: 'db', name: 'SELECT' }),
    makeSpan(0xb2, 3, { startMs: 3000, durationMs: 500, service: 'web', name: 'GET /b', error: true, attributes: [{ key: 'http.status_code', value: 500 }, { key: 'user', value: { id: 7 } }] }),
    makeSpan(0xc3, 4, { startMs: 2000, durationMs: 5, service: 'worker', name: 'job', attributes: [{ key: 'retry', value: true }] }),
  ]);
  const ids = (q: Parameters<TraceStore['list']>[0]): string[] => store.list(q).traces.map((s) => s.rootName);
  t.same(ids({}), ['GET /b', 'job', 'GET /a'], 'newest start first');
  t.same(ids({ service: 'db' }), ['GET /a'], 'service: any span of the trace');
  t.same(ids({ operation: 'SELECT' }), ['GET /a'], 'operation: any span name');
  t.same(ids({ minDurationMs: 50 }), ['GET /b', 'GET /a']);
  t.same(ids({ errorsOnly: true }), ['GET /b']);
  t.same(ids({ tag: { key: 'http.status_code', value: '500' } }), ['GET /b'], 'tag values compare as text');
  t.same(ids({ tag: { key: 'retry', value: 'true' } }), ['job']);
  t.same(ids({ tag: { key: 'user', value: '{"id":7}' } }), ['GET /b'], 'structured values compare as their JSON');
  t.same(ids({ traceIdPrefix: makeSpan(0xc3, 0).traceId }), ['job'], 'a full id is a prefix too');
  t.same(ids({ traceIdPrefix: '0000' }).length, 3);
  t.same(ids({ service: 'web', errorsOnly: true }), ['GET /b'], 'filters combine');
  const limited = store.list({ limit: 2 });
  t.equal(limited.traces.length, 2);
  t.equal(limited.matched, 3);
  t.same(limited.services, ['db', 'web', 'worker']);
  t.same(limited.operations, ['GET /a', 'GET /b', 'SELECT', 'job']);
});

t.test('a late span that starts earlier moves its trace in the list', async (t) => {
  const store = new TraceStore(100);
  store.add([makeSpan(1, 1, { startMs: 2000 }), makeSpan(2, 2, { startMs: 1500 })]);
  t.same(store.list().traces.map((s) => s.traceId.slice(-1)), ['1', '2']);
  store.add([makeSpan(1, 3, { startMs: 1000, parent: 1 })]);
  t.same(store.list().traces.map((s) => s.traceId.slice(-1)), ['2', '1']);
});

t.test('listeners hear which traces changed and whether anything was evicted', async (t) => {
  const store = new TraceStore(2);
  const heard: [string[], boolean][] = [];
  const stop = store.onChange((ids, evicted) => heard.push([[...ids], evicted]));
  store.add([makeSpan(1, 1), makeSpan(1, 2)]);
  store.add([makeSpan(2, 3)]);
  store.add([makeSpan(2, 3)]);
  stop();
  store.add([makeSpan(3, 4)]);
  t.same(heard, [
    [[makeSpan(1, 0).traceId], false],
    [[makeSpan(2, 0).traceId], true],
  ], 'a duplicate changes nothing and is not announced');
  t.throws(() => new TraceStore(0), RangeError);
});
