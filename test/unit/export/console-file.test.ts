import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Tracer, SpanContext, recordError, Tags, SimpleSpanProcessor } from '../../../src/index.js';
import { ConsoleTreeProcessor, ConsoleSpanExporter } from '../../../src/export/console.js';
import { JsonLinesExporter } from '../../../src/export/json-lines.js';
import { BatchSpanProcessor } from '../../../src/export/batch-processor.js';
import { createSpanProcessor } from '../../../src/export/pipeline.js';
import { defaultConfig } from '../../../src/config/load.js';

t.test('the console prints one tree per trace when its root finishes', async (t) => {
  let out = '';
  const processor = new ConsoleTreeProcessor({ write: (s) => (out += s), resource: { 'service.name': 'shop' } });
  const tracer = new Tracer({ processor });
  const root = tracer.startSpan('GET /cart', { tags: { [Tags.SPAN_KIND]: 'server', 'http.method': 'GET', 'http.status_code': 500, secretish: 'not shown' } });
  const db = tracer.startSpan('SELECT cart', { childOf: root, tags: { [Tags.SPAN_KIND]: 'client', 'db.type': 'sql' } });
  recordError(db, new Error('connection reset'));
  db.finish();
  t.equal(out, '', 'nothing until the trace ends');
  tracer.startSpan('render', { childOf: root }).finish();
  root.finish();
  const lines = out.trimEnd().split('\n');
  t.match(lines[0], new RegExp(`^trace ${root.context().traceId} · shop · 3 spans · 1 error$`));
  t.match(lines[1], /^└─ GET \/cart {2}\d+\.\d\d ms {2}\[server\] {2}http\.method=GET {2}http\.status_code=500$/);
  t.match(lines[2], /^ {3}├─ SELECT cart .* \[client\] {2}db\.type=sql {2}ERROR: connection reset$/);
  t.match(lines[3], /^ {3}└─ render /);
  t.notMatch(out, /secretish/, 'only key tags in the tree');
  t.equal(processor.pendingCount(), 0);
});

t.test('a trace whose root is remote is printed after a quiet period, or on flush', async (t) => {
  let out = '';
  const processor = new ConsoleTreeProcessor({ write: (s) => (out += s), quietMs: 20 });
  const tracer = new Tracer({ processor });
  const remote = new SpanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 1, '', null, true);
  tracer.startSpan('handler', { childOf: remote }).finish();
  t.equal(out, '');
  await new Promise((r) => setTimeout(r, 80));
  t.match(out, /└─ handler/);
  out = '';
  tracer.startSpan('second', { childOf: remote }).finish();
  await processor.forceFlush();
  t.match(out, /└─ second/);
  await processor.shutdown();
});

t.test('ConsoleSpanExporter prints each batch as trees', async (t) => {
  const lines: string[] = [];
  const tracer = new Tracer({ processor: new SimpleSpanProcessor(new ConsoleSpanExporter((l) => lines.push(l))) });
  tracer.startSpan('solo').finish();
  await tracer.flush();
  t.match(lines[0], /· 1 span\n└─ solo/);
});

t.test('the file exporter appends one JSON object per span and line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tracing-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'spans.jsonl');
  for (let round = 0; round < 2; round++) {
    const processor = new BatchSpanProcessor(new JsonLinesExporter({ file }, { resource: { 'service.name': 'shop' } }));
    const tracer = new Tracer({ processor });
    const root = tracer.startSpan(`root-${round}`, { tags: { [Tags.SPAN_KIND]: 'server', n: round } });
    tracer.startSpan('child', { childOf: root }).finish();
    root.finish();
    await tracer.close();
  }
  const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  t.equal(records.length, 4, 'appended, not overwritten');
  t.same(records.map((r) => r.name), ['child', 'root-0', 'child', 'root-1']);
  t.equal(records[0].parentSpanId, records[1].spanId);
  t.match(records[1], { service: 'shop', kind: 'server', status: 'unset', attributes: { n: 0 }, parentSpanId: '' });
});

t.test('the pipeline skips unknown exporters with a warning and keeps the rest', async (t) => {
  const cfg = defaultConfig();
  const writes: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    cfg.export.exporters = ['bogus' as 'none', 'console', 'console'];
    const processor = createSpanProcessor(cfg.export, { 'service.name': 'x' });
    t.ok(processor instanceof ConsoleTreeProcessor, 'one console processor, duplicates ignored');
    cfg.export.exporters = ['none'];
    t.equal(createSpanProcessor(cfg.export, {}).constructor.name, 'NoopSpanProcessor');
    cfg.export.exporters = ['otlp'];
    cfg.export.endpoint = 'not a url';
    t.equal(createSpanProcessor(cfg.export, {}).constructor.name, 'NoopSpanProcessor');
  } finally {
    process.stderr.write = original;
  }
  t.match(writes.join(''), /exporter bogus is off: .*unknown exporter "bogus"/);
  t.match(writes.join(''), /exporter otlp is off/);
});
