import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { loadSpanFile, SpanFileWriter } from '../../../src/viewer/span-file.js';
import { TraceStore } from '../../../src/viewer/store.js';
import { makeSpan } from './make-span.js';

function tmpFile(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-file-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'traces.jsonl');
}

t.test('spans written are loaded again, exactly, and a missing file is empty', async (t) => {
  const file = tmpFile(t);
  const warnings: string[] = [];
  const empty = new TraceStore(100);
  t.same(await loadSpanFile(file, empty, (m) => warnings.push(m)), { lines: 0, loaded: 0, skipped: 0, compacted: false });
  const w = new SpanFileWriter(file, (m) => warnings.push(m));
  const spans = [makeSpan(1, 1, { name: '<img src=x onerror=alert(1)>', attributes: [{ key: 'k', value: ['a', { b: 1 }] }] }), makeSpan(1, 2, { parent: 1 })];
  w.append(spans.slice(0, 1));
  w.append(spans.slice(1));
  await w.close();
  const store = new TraceStore(100);
  const report = await loadSpanFile(file, store, (m) => warnings.push(m));
  t.same(report, { lines: 2, loaded: 2, skipped: 0, compacted: false });
  t.same(store.spans(spans[0]!.traceId), spans);
  t.same(warnings, []);
});

t.test('a torn last line is skipped with a warning and cut off, so later spans are not glued to it', async (t) => {
  const file = tmpFile(t);
  fs.writeFileSync(file, `${JSON.stringify(makeSpan(1, 1))}\n${JSON.stringify(makeSpan(1, 2)).slice(0, 40)}`);
  const warnings: string[] = [];
  const store = new TraceStore(100);
  const report = await loadSpanFile(file, store, (m) => warnings.push(m));
  t.same(report, { lines: 2, loaded: 1, skipped: 1, compacted: true });
  t.match(warnings, [/skipped a torn last line/]);
  const w = new SpanFileWriter(file, () => {});
  w.append([makeSpan(1, 3)]);
  await w.close();
  const again = new TraceStore(100);
  t.equal((await loadSpanFile(file, again, () => {})).loaded, 2);
  t.equal(again.stats().spans, 2);
});

t.test('corrupt middle lines and non-spans are skipped; the bound applies when loading and the file is compacted', async (t) => {
  const file = tmpFile(t);
  const lines = [makeSpan(1, 1), 'garbage', makeSpan(2, 2), { traceId: 'x' }, makeSpan(3, 3), makeSpan(4, 4)].map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const warnings: string[] = [];
  const store = new TraceStore(2);
  const report = await loadSpanFile(file, store, (m) => warnings.push(m));
  t.same(report, { lines: 6, loaded: 4, skipped: 2, compacted: true });
  t.match(warnings, [/skipped 2 line\(s\) that are not spans/]);
  t.same(store.stats().spans, 2);
  t.same(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).spanId), [makeSpan(3, 3).spanId, makeSpan(4, 4).spanId], 'only what the store kept remains');
});

t.test('flush waits for pending writes; appends after close are ignored', async (t) => {
  const file = tmpFile(t);
  const w = new SpanFileWriter(file, () => {});
  for (let i = 1; i <= 50; i++) w.append([makeSpan(1, i)]);
  await w.flush();
  t.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 50);
  await w.close();
  w.append([makeSpan(1, 99)]);
  t.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 50);
});
