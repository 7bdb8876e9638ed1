// The page's DOM-free parts, run in Node: building the waterfall's rows (iteratively, for huge and
// deep traces, with missing parents and bad data) and reading saved OTLP JSON files.
import t from 'tap';
import { buildSpanTree, visibleRows } from '../../../src/viewer/page/span-tree.js';
import { parseOtlpJson } from '../../../src/viewer/page/otlp-file.js';
import { viewSpan } from './spans.js';
import type { ViewSpan } from '../../../src/viewer/model.js';

const trace = '1'.repeat(32);
const names = (spans: readonly ViewSpan[], rows: ArrayLike<number>, spanOfRow: Int32Array) =>
  Array.from(rows, (r) => spans[spanOfRow[r]!]!.name);

t.test('rows: parents first, siblings in start order, depth and subtree ends', async (t) => {
  const root = viewSpan(trace, 'root', { startMs: 0, durationMs: 100 });
  const late = viewSpan(trace, 'late child', { parent: root, startMs: 50 });
  const early = viewSpan(trace, 'early child', { parent: root, startMs: 10 });
  const grandchild = viewSpan(trace, 'grandchild', { parent: early, startMs: 12 });
  const spans = [late, grandchild, root, early]; // any arrival order
  const tree = buildSpanTree(spans);
  t.same(names(spans, [0, 1, 2, 3], tree.spanOfRow), ['root', 'early child', 'grandchild', 'late child']);
  t.same([...tree.depth], [0, 1, 2, 1]);
  t.same([...tree.subtreeEnd], [3, 2, 2, 3]);
  t.same([...tree.childCount], [2, 1, 0, 0]);
  t.equal(tree.startMs, 0);
  t.equal(tree.endMs, 100);
  const collapsed = new Uint8Array(4);
  collapsed[1] = 1;
  t.same(names(spans, visibleRows(tree, collapsed), tree.spanOfRow), ['root', 'early child', 'late child'], 'collapsing hides the subtree only');
  collapsed[0] = 1;
  t.same(names(spans, visibleRows(tree, collapsed), tree.spanOfRow), ['root']);
});

t.test('spans whose parent never arrived are rows of their own, flagged; a parent cycle is broken, not dropped', async (t) => {
  const root = viewSpan(trace, 'root', { startMs: 0 });
  const orphan = viewSpan(trace, 'orphan', { parent: 'ffffffffffffffff', startMs: 5 });
  const orphanChild = viewSpan(trace, 'orphan child', { parent: orphan, startMs: 6 });
  const a = viewSpan(trace, 'cycle a', { startMs: 7 });
  const b = viewSpan(trace, 'cycle b', { parent: a, startMs: 8 });
  a.parentSpanId = b.spanId;
  const self = viewSpan(trace, 'own parent', { startMs: 9 });
  self.parentSpanId = self.spanId;
  const spans = [root, orphan, orphanChild, a, b, self];
  const tree = buildSpanTree(spans);
  const rows = names(spans, [0, 1, 2, 3, 4, 5], tree.spanOfRow);
  t.same(rows, ['root', 'orphan', 'orphan child', 'own parent', 'cycle a', 'cycle b'], 'every span has exactly one row');
  t.same([...tree.missingParent], [0, 1, 0, 1, 1, 0]);
  t.same([...tree.depth], [0, 0, 1, 0, 0, 1]);
});

t.test('50,000 spans in one chain: built without recursion, quickly enough for a page', async (t) => {
  const spans: ViewSpan[] = [viewSpan(trace, 'span 0', { startMs: 0 })];
  for (let i = 1; i < 50_000; i++) spans.push(viewSpan(trace, `span ${i}`, { parent: spans[i - 1]!, startMs: i }));
  const tree = buildSpanTree(spans);
  t.equal(tree.depth[49_999], 49_999);
  t.equal(tree.subtreeEnd[0], 49_999);
  const collapsed = new Uint8Array(50_000);
  collapsed[100] = 1;
  t.equal(visibleRows(tree, collapsed).length, 101);
});

t.test('OTLP JSON files: our download, JSON lines, enum names, base64 ids, old field names', async (t) => {
  const request = (spans: unknown[], service = 'svc') => ({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 's', version: '1' }, spans }] }],
  });
  const one = parseOtlpJson(JSON.stringify(request([{
    traceId: 'AAECAwQFBgcICQoLDA0ODw==', spanId: 'AAECAwQFBgc=', name: 'b64', kind: 'SPAN_KIND_PRODUCER',
    startTimeUnixNano: 1_700_000_000_123_456_789, endTimeUnixNano: '1700000000223456789',
    attributes: [
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { doubleValue: 1.5 }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
    ],
    status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
  }])));
  t.equal(one.length, 1);
  const span = one[0]!;
  t.equal(span.traceId, '000102030405060708090a0b0c0d0e0f', 'base64 trace id read as hex');
  t.equal(span.spanId, '0001020304050607');
  t.equal(span.kind, 'producer');
  t.equal(span.error, true);
  t.equal(span.durationMs, 100);
  t.same(span.attributes.map((a) => a.value), ['9007199254740993', ['a', 1.5], { k: true }], 'big ints keep their digits; arrays and maps nest');

  const lines = [request([{ traceId: 'ab'.repeat(16), spanId: '01'.repeat(8), name: 'x', startTimeUnixNano: '2000', endTimeUnixNano: '3000' }]),
    { resourceSpans: [{ resource: {}, instrumentationLibrarySpans: [{ instrumentationLibrary: { name: 'old' }, spans: [{ traceId: 'ab'.repeat(16), spanId: '02'.repeat(8), parentSpanId: '01'.repeat(8), name: 'y', startTimeUnixNano: '1000', endTimeUnixNano: '4000' }] }] }] }]
    .map((r) => JSON.stringify(r)).join('\n');
  const both = parseOtlpJson(lines);
  t.same(both.map((s) => [s.name, s.service, s.scope.name, s.parentSpanId]), [['y', 'unknown_service', 'old', '01'.repeat(8)], ['x', 'svc', 's', '']], 'JSON lines, oldest name, start order');

  t.throws(() => parseOtlpJson('not json'), /not JSON/);
  t.throws(() => parseOtlpJson('{"traces": []}'), /no "resourceSpans"/);
  t.throws(() => parseOtlpJson(JSON.stringify(request([]))), /no spans/);
});
