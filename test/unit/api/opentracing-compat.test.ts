import t, { type Test } from 'tap';
import * as opentracing from 'opentracing';
import { Tracer, InMemorySpanExporter, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP, FORMAT_BINARY, Tags, globalTracer, initGlobalTracer, NoopTracer } from '../../../src/index.js';

// opentracing's checks are written for mocha; run them under tap with a minimal stand-in for
// describe/it/beforeEach, so every check becomes a tap subtest and a failure fails here.
interface Suite { name: string; before: (() => void)[]; tests: { name: string; fn: () => void; skip: boolean }[]; children: Suite[] }
function collectMochaChecks(register: () => void): Suite {
  const root: Suite = { name: 'root', before: [], tests: [], children: [] };
  let cur = root;
  const g = globalThis as Record<string, unknown>;
  const it = (name: string, fn: () => void) => cur.tests.push({ name, fn, skip: false });
  (it as unknown as Record<string, unknown>).skip = (name: string, fn: () => void) => cur.tests.push({ name, fn, skip: true });
  g.describe = (name: string, fn: () => void) => {
    const child: Suite = { name, before: [], tests: [], children: [] };
    cur.children.push(child);
    const parent = cur;
    cur = child;
    fn();
    cur = parent;
  };
  g.it = it;
  g.beforeEach = (fn: () => void) => cur.before.push(fn);
  try {
    register();
  } finally {
    delete g.describe;
    delete g.it;
    delete g.beforeEach;
  }
  return root;
}

function runSuite(t: Test, suite: Suite, befores: (() => void)[]): number {
  let count = 0;
  const all = [...befores, ...suite.before];
  for (const test of suite.tests) {
    count++;
    t.test(test.name, async (t) => {
      t.equal(test.skip, false, 'no compatibility check is skipped');
      for (const b of all) b();
      test.fn();
    });
  }
  for (const child of suite.children) {
    t.test(child.name, async (t) => {
      runSuite(t, child, all);
    });
  }
  return count;
}

t.test('opentracing API compatibility checks pass with nothing skipped', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const checks = require('opentracing/lib/test/api_compatibility').default as (f: () => unknown, o?: object) => void;
  const suite = collectMochaChecks(() => checks(() => new Tracer(), { skipBaggageChecks: false, skipInjectExtractChecks: false }));
  t.ok(suite.children.length > 0, 'checks were collected');
  runSuite(t, suite, []);
});

t.test('our constants carry OpenTracing\'s exact values', async (t) => {
  t.equal(FORMAT_HTTP_HEADERS, opentracing.FORMAT_HTTP_HEADERS);
  t.equal(FORMAT_TEXT_MAP, opentracing.FORMAT_TEXT_MAP);
  t.equal(FORMAT_BINARY, opentracing.FORMAT_BINARY);
  for (const [key, value] of Object.entries(opentracing.Tags)) {
    t.equal((Tags as Record<string, string>)[key], value, `Tags.${key}`);
  }
});

t.test('opentracing.initGlobalTracer accepts our tracer and OpenTracing code joins our traces', async (t) => {
  const exporter = new InMemorySpanExporter();
  const ours = new Tracer({ processor: exporter });
  opentracing.initGlobalTracer(ours as unknown as opentracing.Tracer);
  const otTracer = opentracing.globalTracer();
  const parent = ours.startSpan('ours');
  const child = otTracer.startSpan('via-opentracing', { childOf: parent as unknown as opentracing.Span });
  child.setTag(opentracing.Tags.ERROR, true);
  child.finish();
  const refChild = otTracer.startSpan('via-reference', { references: [opentracing.childOf(parent.context() as unknown as opentracing.SpanContext)] });
  refChild.finish();
  const headers: Record<string, string> = {};
  otTracer.inject(child.context(), opentracing.FORMAT_HTTP_HEADERS, headers);
  t.match(headers.traceparent, new RegExp(`^00-${parent.context().toTraceId()}-`));
  const spans = exporter.getFinishedSpans();
  t.same(spans.map((s) => s.operationName), ['via-opentracing', 'via-reference']);
  for (const s of spans) t.equal(s.parentSpanId, parent.context().spanId);
  opentracing.initGlobalTracer(new opentracing.Tracer());
});

t.test('globalTracer() is a no-op until set and then forwards, even if taken earlier', async (t) => {
  const early = globalTracer();
  const noopSpan = early.startSpan('nothing');
  t.equal(noopSpan.isRecording(), false);
  t.equal(early.extract(FORMAT_HTTP_HEADERS, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }), null);
  t.equal(early.startActiveSpan('fn', {}, () => 7), 7, 'the no-op tracer still runs callbacks');
  const exporter = new InMemorySpanExporter();
  initGlobalTracer(new Tracer({ processor: exporter }));
  early.startSpan('real').finish();
  t.equal(exporter.getFinishedSpans()[0]?.operationName, 'real');
  initGlobalTracer(new NoopTracer());
});

t.test('a tracer registered on first use is built by the first call that needs one, and a tracer set before wins', async (t) => {
  const { initGlobalTracerOnFirstUse } = await import('../../../src/api/global.js');
  const exporter = new InMemorySpanExporter();
  let built = 0;
  initGlobalTracerOnFirstUse(() => {
    built++;
    return new Tracer({ processor: exporter });
  });
  const early = globalTracer();
  t.equal(built, 0, 'registering builds nothing');
  early.startSpan('first').finish();
  t.equal(built, 1, 'the first span builds it');
  globalTracer().startSpan('second').finish();
  t.equal(built, 1, 'once');
  t.same(exporter.getFinishedSpans().map((s) => s.operationName), ['first', 'second'], 'both spans reach its processor');

  let never = 0;
  initGlobalTracerOnFirstUse(() => {
    never++;
    return new Tracer();
  });
  const own = new InMemorySpanExporter();
  initGlobalTracer(new Tracer({ processor: own }));
  globalTracer().startSpan('mine').finish();
  t.equal(never, 0, 'a tracer given to initGlobalTracer before first use wins; the pending one is never built');
  t.equal(own.getFinishedSpans()[0]?.operationName, 'mine');
  initGlobalTracer(new NoopTracer());
});
