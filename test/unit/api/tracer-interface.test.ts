import t from 'tap';
import {
  Tracer, NoopTracer, InMemorySpanExporter, AsyncLocalScopeManager, StackScopeManager, AlwaysOffSampler,
  FORMAT_HTTP_HEADERS, globalTracer, initGlobalTracer, type Span, type SpanOptions,
} from '../../../src/index.js';
import { createTracer } from '../../../src/tracer.js';

// `Tracer` is an interface with three implementations (the recording tracer, `NoopTracer`, the
// `globalTracer()` delegate) and, as a value, the constructor of the recording tracer with its
// defaults. What users wrote against the class must keep compiling and working.

t.test('a variable typed Tracer takes the global tracer, the no-op tracer and a new one', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracers: Tracer[] = [globalTracer(), new NoopTracer(), new Tracer({ processor: exporter })];
  for (const tracer of tracers) {
    const span = tracer.startSpan('op');
    span.finish();
    t.equal(typeof span.context().toTraceId(), 'string');
  }
  t.equal(exporter.getFinishedSpans().length, 1, 'only the recording tracer exports');
  t.ok(new Tracer() instanceof Tracer, 'instanceof works on what the constructor builds');
  t.ok(globalTracer() instanceof Tracer, 'the global delegate is a Tracer, as when it was a subclass');
  t.ok(new NoopTracer() instanceof Tracer, 'so is the no-op tracer');
  t.notOk({ startSpan() {} } instanceof Tracer, 'an object with only some of the methods is not');
  t.notOk((null as unknown as object) instanceof Tracer, 'null is not');
  class Mine extends Tracer {}
  t.ok(new Mine() instanceof Mine, 'a subclass answers for its own instances');
  t.notOk(new Tracer() instanceof Mine, 'and only for them');
  t.ok(new Mine() instanceof Tracer);
});

t.test('new Tracer() and the agent\'s createTracer() fill in the same defaults', async (t) => {
  for (const tracer of [new Tracer(), createTracer(), createTracer({})]) {
    t.ok(tracer.scopeManager instanceof AsyncLocalScopeManager, 'async-local scope manager');
    t.equal(tracer.sampler.toString(), 'parent_based(always_on)');
    t.same(tracer.propagator.fields(), ['traceparent', 'tracestate', 'baggage']);
    t.same(tracer.resource, {});
  }
  const scopeManager = new StackScopeManager();
  const sampler = new AlwaysOffSampler();
  const given = createTracer({ scopeManager, sampler, resource: { 'service.name': 'svc' } });
  t.equal(given.scopeManager, scopeManager, 'a given part is used as is');
  t.equal(given.sampler, sampler);
  t.same(given.resource, { 'service.name': 'svc' });
});

t.test('a subclass of Tracer keeps the defaults and can override a method', async (t) => {
  const exporter = new InMemorySpanExporter();
  class NamingTracer extends Tracer {
    override startSpan(name: string, options?: SpanOptions): Span {
      return super.startSpan(`app.${name}`, options);
    }
  }
  const tracer = new NamingTracer({ processor: exporter });
  t.equal(tracer.startActiveSpan('work', {}, (span) => span.operationName), 'app.work', 'startActiveSpan goes through the override');
  t.same(exporter.getFinishedSpans().map((s) => s.operationName), ['app.work']);
  t.ok(tracer.scopeManager instanceof AsyncLocalScopeManager);
});

t.test('initGlobalTracer takes any implementation of Tracer, and nothing else', async (t) => {
  const exporter = new InMemorySpanExporter();
  const inner = new Tracer({ processor: exporter });
  // A user's own tracer that implements the interface by delegation, not by subclassing.
  const started: string[] = [];
  const own: Tracer = {
    get resource() { return inner.resource; },
    get scopeManager() { return inner.scopeManager; },
    get sampler() { return inner.sampler; },
    get propagator() { return inner.propagator; },
    activeSpan: () => inner.activeSpan(),
    startSpan: (name, options) => {
      started.push(name);
      return inner.startSpan(name, options);
    },
    startActiveSpan: ((name: string, options?: unknown, fn?: unknown) => (inner.startActiveSpan as (...a: unknown[]) => unknown)(name, options, fn)) as Tracer['startActiveSpan'],
    inject: (ctx, format, carrier, setter) => inner.inject(ctx, format, carrier, setter),
    extract: (format, carrier, getter) => inner.extract(format, carrier, getter),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  try {
    initGlobalTracer(own);
    globalTracer().startSpan('through-own').finish();
    t.same(started, ['through-own']);
    t.equal(exporter.getFinishedSpans()[0]?.operationName, 'through-own');

    initGlobalTracer({ startSpan() {} } as unknown as Tracer);
    t.equal(globalTracer().startSpan('x').isRecording(), false, 'an object that is not a whole Tracer puts the no-op back');
    initGlobalTracer(inner);
    initGlobalTracer(globalTracer());
    t.equal(globalTracer().startSpan('x').isRecording(), false, 'the delegate itself is refused (it would forward to itself)');
  } finally {
    initGlobalTracer(new NoopTracer());
  }
});

t.test('the no-op tracer: callbacks run, scopes close, nothing is recorded or propagated', async (t) => {
  const noop = new NoopTracer();
  t.equal(noop.startActiveSpan('fn', (span) => span.isRecording()), false);
  await t.rejects(noop.startActiveSpan('async', {}, async () => {
    throw new Error('passes through');
  }), /passes through/);
  {
    using scope = noop.startActiveSpan('scoped');
    t.equal(scope.span.isRecording(), false);
  }
  t.equal(noop.activeSpan(), null, 'keeps no active span');
  const headers: Record<string, string> = {};
  noop.inject(noop.startSpan('x'), FORMAT_HTTP_HEADERS, headers);
  t.same(headers, {});
  t.equal(noop.sampler.toString(), 'always_off');
  t.same(noop.propagator.fields(), []);
  await noop.flush();
  await noop.close();
});
