import t from 'tap';
import { EventEmitter } from 'node:events';
import { Tracer, AsyncLocalScopeManager, StackScopeManager, InMemorySpanExporter } from '../../../src/index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

t.test('the active span follows await, promises, timers, setImmediate, nextTick and callbacks', async (t) => {
  const tracer = new Tracer();
  await tracer.startActiveSpan('parent', async (span) => {
    await tick();
    t.equal(tracer.activeSpan(), span, 'after await');
    await Promise.resolve().then(() => t.equal(tracer.activeSpan(), span, 'in a .then callback'));
    await new Promise<void>((r) => setTimeout(() => { t.equal(tracer.activeSpan(), span, 'in setTimeout'); r(); }, 1));
    await new Promise<void>((r) => setImmediate(() => { t.equal(tracer.activeSpan(), span, 'in setImmediate'); r(); }));
    await new Promise<void>((r) => process.nextTick(() => { t.equal(tracer.activeSpan(), span, 'in nextTick'); r(); }));
    await new Promise<void>((r) => require('node:fs').stat(__filename, () => { t.equal(tracer.activeSpan(), span, 'in an I/O callback'); r(); }));
  });
  t.equal(tracer.activeSpan(), null, 'nothing active after the callback');
});

t.test('1,000 interleaved async tasks each keep their own active span', async (t) => {
  const tracer = new Tracer();
  let mixed = 0;
  const tasks = Array.from({ length: 1000 }, (_, i) =>
    tracer.startActiveSpan(`task-${i}`, async (span) => {
      for (let step = 0; step < 5; step++) {
        // Random delays make the tasks resume in a shuffled order.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)));
        if (tracer.activeSpan() !== span) mixed++;
        const child = tracer.startSpan(`child-${i}-${step}`);
        if (child.parentSpanId !== span.context().spanId) mixed++;
        child.finish();
      }
    }),
  );
  await Promise.all(tasks);
  t.equal(mixed, 0, 'no task ever saw another task\'s span');
});

t.test('activate and close restore the previous scope; out-of-order close does not corrupt', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const a = sm.activate(tracer.startSpan('a'), false);
  const b = sm.activate(tracer.startSpan('b'), false);
  t.equal(sm.active()?.span, b.span);
  a.close(); // out of order
  t.equal(sm.active()?.span, b.span, 'closing an outer scope leaves the inner one active');
  b.close();
  t.equal(sm.active(), null, 'and after the inner closes, the closed outer is skipped');
});

t.test('a scope closed in one async path does not change another path', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const shared = sm.activate(tracer.startSpan('shared'), false);
  let seenInOther: unknown;
  const other = new Promise<void>((resolve) => setTimeout(() => { seenInOther = sm.active()?.span; resolve(); }, 5));
  await tick();
  const inner = sm.activate(tracer.startSpan('inner'), false);
  inner.close();
  await other;
  t.equal(seenInOther, shared.span);
  shared.close();
});

t.test('scopes support `using`', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  {
    using scope = tracer.startActiveSpan('with-using');
    t.equal(tracer.activeSpan(), scope.span);
  }
  t.equal(tracer.activeSpan(), null);
  t.equal(exporter.getFinishedSpans()[0]?.operationName, 'with-using', 'disposal finished the span');
});

t.test('bind restores context for callbacks that lose it, keeping name and length', async (t) => {
  const sm = new AsyncLocalScopeManager();
  const tracer = new Tracer({ scopeManager: sm });
  const span = tracer.startSpan('bound');
  const emitter = new EventEmitter();
  function onEvent(_a: unknown, _b: unknown): void {
    t.equal(tracer.activeSpan(), span);
  }
  const bound = sm.bind(onEvent, span);
  t.equal(bound.name, 'onEvent');
  t.equal(bound.length, 2);
  emitter.on('x', bound);
  emitter.emit('x', 1, 2);
  t.equal(tracer.activeSpan(), null);
  t.equal(sm.bind(null as never, span), null, 'a non-function passes through');
});

t.test('StackScopeManager: synchronous nesting', async (t) => {
  const sm = new StackScopeManager();
  const tracer = new Tracer({ scopeManager: sm });
  const outer = tracer.startActiveSpan('outer');
  const inner = tracer.startActiveSpan('inner');
  t.equal(tracer.startSpan('leaf').parentSpanId, inner.span.context().spanId);
  inner.close();
  t.equal(sm.active()?.span, outer.span);
  const r = tracer.startActiveSpan('fn', {}, (s) => {
    t.equal(sm.active()?.span, s);
    return 1;
  });
  t.equal(r, 1);
  t.equal(sm.active()?.span, outer.span);
  outer.close();
  t.equal(sm.active(), null);
  const bound = sm.bind(() => sm.active()?.span, outer.span);
  t.equal(bound(), outer.span);
});

t.test('scope attachments: a bridge\'s record beside the active span, in the one store', async (t) => {
  const { scopeAttachments } = await import('../../../src/scope/async-local.js');
  const { suppressTracing, isTracingSuppressed } = await import('../../../src/util/suppress.js');
  t.equal(scopeAttachments(new StackScopeManager()), null, 'only the AsyncLocalStorage manager offers them');
  const tracer = new Tracer();
  const attachments = scopeAttachments(tracer.scopeManager)!;
  const outer = { name: 'outer' };
  const inner = { name: 'inner' };
  const span = tracer.startSpan('bridged');
  t.equal(attachments.active(), undefined, 'none outside a run');
  await attachments.run(span, outer, async () => {
    t.equal(tracer.activeSpan(), span, 'the span is active');
    t.equal(attachments.active(), outer);
    await tick();
    t.equal(attachments.active(), outer, 'after await');
    await tracer.startActiveSpan('child', async (child) => {
      t.equal(attachments.active(), outer, 'kept under a span our instrumentations activate');
      await tick();
      t.equal(tracer.activeSpan(), child);
      t.equal(attachments.active(), outer);
    });
    tracer.scopeManager.run(null, () => {
      t.equal(tracer.activeSpan(), null, 'run(null): nothing active');
      t.equal(attachments.active(), outer, 'run(null): the attachment holds on');
    });
    attachments.run(null, inner, () => {
      t.equal(tracer.activeSpan(), null, 'a run without a span: none active');
      t.equal(attachments.active(), inner, 'the innermost attachment');
    });
    suppressTracing(() => attachments.run(span, inner, () => {
      t.ok(isTracingSuppressed(), 'suppression holds inside a run');
      t.equal(attachments.active(), inner);
    }));
    t.equal(attachments.active(), outer, 'back to the outer one');
  });
  t.equal(attachments.active(), undefined, 'gone after the run');
  t.equal(tracer.activeSpan(), null);
});
