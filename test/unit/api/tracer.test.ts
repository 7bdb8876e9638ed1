import t from 'tap';
import {
  Tracer, InMemorySpanExporter, childOf, followsFrom, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP,
  SpanContext, AlwaysOffSampler, Tags, REFERENCE_FOLLOWS_FROM,
} from '../../../src/index.js';

function setup() {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  return { tracer, exporter };
}

t.test('a root span has fresh ids, a child shares the trace and points at its parent', async (t) => {
  const { tracer, exporter } = setup();
  const root = tracer.startSpan('root');
  const child = tracer.startSpan('child', { childOf: root });
  t.match(root.context().toTraceId(), /^[0-9a-f]{32}$/);
  t.match(root.context().toSpanId(), /^[0-9a-f]{16}$/);
  t.equal(child.context().toTraceId(), root.context().toTraceId());
  t.not(child.context().toSpanId(), root.context().toSpanId());
  t.equal(child.parentSpanId, root.context().toSpanId());
  t.equal(root.parentSpanId, '');
  child.finish();
  root.finish();
  t.same(exporter.getFinishedSpans().map((s) => s.operationName), ['child', 'root']);
});

t.test('childOf accepts a span context as well as a span', async (t) => {
  const { tracer } = setup();
  const root = tracer.startSpan('root');
  const child = tracer.startSpan('child', { childOf: root.context() });
  t.equal(child.parentSpanId, root.context().spanId);
});

t.test('explicit childOf wins over the active span; ignoreActiveSpan starts a new trace', async (t) => {
  const { tracer } = setup();
  const explicitParent = tracer.startSpan('explicit');
  const scope = tracer.startActiveSpan('active');
  const a = tracer.startSpan('a', { childOf: explicitParent });
  t.equal(a.parentSpanId, explicitParent.context().spanId);
  const b = tracer.startSpan('b');
  t.equal(b.parentSpanId, scope.span.context().spanId, 'active span is the implicit parent');
  const c = tracer.startSpan('c', { ignoreActiveSpan: true });
  t.equal(c.parentSpanId, '');
  t.not(c.context().traceId, scope.span.context().traceId);
  scope.close();
  t.equal(tracer.activeSpan(), null);
});

t.test('references: first child_of is the parent; follows_from becomes a link', async (t) => {
  const { tracer } = setup();
  const p = tracer.startSpan('p');
  const cause = tracer.startSpan('cause');
  const s = tracer.startSpan('s', { references: [followsFrom(cause), childOf(p)] });
  t.equal(s.parentSpanId, p.context().spanId);
  t.equal(s.references?.length, 1);
  t.equal(s.references?.[0]?.type(), REFERENCE_FOLLOWS_FROM);
  const onlyFollows = tracer.startSpan('f', { references: [followsFrom(cause)] });
  t.equal(onlyFollows.parentSpanId, cause.context().spanId, 'with only follows_from, it is the parent');
  t.equal(onlyFollows.context().traceId, cause.context().traceId);
  const scope = tracer.startActiveSpan('active');
  const withRefs = tracer.startSpan('r', { references: [childOf(p)] });
  t.equal(withRefs.parentSpanId, p.context().spanId, 'references win over the active span');
  scope.close();
});

t.test('tags, startTime, logs and finish time are recorded', async (t) => {
  const { tracer, exporter } = setup();
  const span = tracer.startSpan('op', { tags: { a: 1, b: 'x' }, startTime: 1000 });
  span.setTag('c', true).addTags({ d: 'y' });
  span.log({ event: 'hello', n: 1 }, 1500);
  const fields = { event: 'mutated-later' };
  span.log(fields, 1600);
  fields.event = 'changed';
  span.finish(2000);
  const [done] = exporter.getFinishedSpans();
  t.same({ ...done!.tags }, { a: 1, b: 'x', c: true, d: 'y' });
  t.equal(done!.startTime, 1000);
  t.equal(done!.duration, 1000);
  t.same(done!.logs.map((l) => [l.timestamp, { ...l.fields }]), [[1500, { event: 'hello', n: 1 }], [1600, { event: 'mutated-later' }]]);
});

t.test('a second finish is ignored and changes after finish are ignored', async (t) => {
  const { tracer, exporter } = setup();
  const span = tracer.startSpan('op');
  span.finish(span.startTime + 5);
  span.finish(span.startTime + 50);
  span.setTag('late', 1).setOperationName('renamed').log({ event: 'late' }).setBaggageItem('late', 'x');
  t.equal(exporter.getFinishedSpans().length, 1);
  t.equal(span.duration, 5);
  t.equal(span.operationName, 'op');
  t.equal(span.tags.late, undefined);
  t.equal(span.logs.length, 0);
  t.equal(span.getBaggageItem('late'), undefined);
});

t.test('baggage travels to children and across processes', async (t) => {
  const { tracer } = setup();
  const root = tracer.startSpan('root');
  root.setBaggageItem('user', 'alice');
  const child = tracer.startSpan('child', { childOf: root });
  t.equal(child.getBaggageItem('user'), 'alice');
  child.setBaggageItem('tier', 'gold');
  t.equal(root.getBaggageItem('tier'), undefined, 'a child does not change its parent');
  const carrier: Record<string, string> = {};
  tracer.inject(child, FORMAT_HTTP_HEADERS, carrier);
  const remote = new Tracer();
  const extracted = remote.extract(FORMAT_HTTP_HEADERS, carrier);
  t.ok(extracted);
  t.equal(extracted!.getBaggageItem('user'), 'alice');
  t.equal(extracted!.getBaggageItem('tier'), 'gold');
  const server = remote.startSpan('server', { childOf: extracted });
  t.equal(server.getBaggageItem('user'), 'alice');
  t.equal(server.context().traceId, root.context().traceId);
  t.equal(server.parentSpanId, child.context().spanId);
});

t.test('startActiveSpan with a callback: returns its value, finishes, activates', async (t) => {
  const { tracer, exporter } = setup();
  const value = tracer.startActiveSpan('sync', {}, (span) => {
    t.equal(tracer.activeSpan(), span);
    return 42;
  });
  t.equal(value, 42);
  t.equal(tracer.activeSpan(), null);
  t.equal(exporter.getFinishedSpans()[0]?.operationName, 'sync');

  const p = tracer.startActiveSpan('async', async (span) => {
    await new Promise((r) => setTimeout(r, 2));
    t.equal(tracer.activeSpan(), span, 'active across await');
    return 'done';
  });
  t.equal(exporter.getFinishedSpans().length, 1, 'not finished before the promise settles');
  t.equal(await p, 'done');
  t.equal(exporter.getFinishedSpans()[1]?.operationName, 'async');
});

t.test('startActiveSpan marks throws and rejections as errors and passes them through unchanged', async (t) => {
  const { tracer, exporter } = setup();
  const boom = new TypeError('boom');
  try {
    tracer.startActiveSpan('throws', {}, () => {
      throw boom;
    });
    t.fail('should have thrown');
  } catch (err) {
    t.equal(err, boom, 'same error object');
  }
  const rejected = new RangeError('nope');
  const returned = tracer.startActiveSpan('rejects', {}, () => Promise.reject(rejected));
  await t.rejects(returned, rejected);
  try {
    await returned;
  } catch (err) {
    t.equal(err, rejected, 'same rejection');
  }
  await new Promise((r) => setImmediate(r));
  const [a, b] = exporter.getFinishedSpans();
  for (const [span, err] of [[a, boom], [b, rejected]] as const) {
    t.equal(span!.tags.error, true);
    const fields = span!.logs[0]!.fields;
    t.equal(fields.event, 'error');
    t.equal(fields['error.kind'], err.name);
    t.equal(fields.message, err.message);
    t.equal(fields.stack, err.stack);
  }
});

t.test('startActiveSpan without a callback returns a scope; finishOnClose defaults to true', async (t) => {
  const { tracer, exporter } = setup();
  const scope = tracer.startActiveSpan('scoped');
  t.equal(tracer.activeSpan(), scope.span);
  scope.close();
  t.equal(exporter.getFinishedSpans().length, 1);
  const keep = tracer.startActiveSpan('kept', { finishOnClose: false });
  keep.close();
  t.equal(exporter.getFinishedSpans().length, 1, 'finishOnClose: false leaves the span open');
  t.equal(keep.span.isFinished(), false);
});

t.test('unsampled spans record nothing but still propagate, with the sampled flag off', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter, sampler: new AlwaysOffSampler() });
  const span = tracer.startSpan('dropped', { tags: { a: 1 } });
  span.setTag('b', 2);
  span.finish();
  t.equal(exporter.getFinishedSpans().length, 0);
  t.equal(span.isRecording(), false);
  t.equal(span.context().sampled, false);
  const headers: Record<string, string> = {};
  tracer.inject(span, FORMAT_HTTP_HEADERS, headers);
  t.match(headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]$/);
});

t.test('parent-based sampling follows a remote parent; sampling.priority forces a decision', async (t) => {
  const { tracer, exporter } = setup();
  const unsampledParent = new SpanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 0, '', null, true);
  const child = tracer.startSpan('c', { childOf: unsampledParent });
  t.equal(child.isRecording(), false);
  const forced = tracer.startSpan('forced', { childOf: unsampledParent, tags: { [Tags.SAMPLING_PRIORITY]: 1 } });
  t.equal(forced.isRecording(), true);
  forced.finish();
  t.equal(exporter.getFinishedSpans().length, 1);
});

t.test('inject/extract of a missing or malformed context returns null and never throws', async (t) => {
  const { tracer } = setup();
  t.equal(tracer.extract(FORMAT_HTTP_HEADERS, {}), null);
  t.equal(tracer.extract(FORMAT_HTTP_HEADERS, null), null);
  t.equal(tracer.extract(FORMAT_TEXT_MAP, { traceparent: 'garbage' }), null);
  t.equal(tracer.extract('unknown-format', { traceparent: 'x' }), null);
  const hostile = Object.create(null, { traceparent: { get() { throw new Error('hostile getter'); }, enumerable: true } });
  t.equal(tracer.extract(FORMAT_HTTP_HEADERS, hostile), null);
  t.doesNotThrow(() => tracer.inject(null, FORMAT_HTTP_HEADERS, {}));
  t.doesNotThrow(() => tracer.inject(tracer.startSpan('x'), FORMAT_HTTP_HEADERS, null));
  t.doesNotThrow(() => tracer.inject({ context: () => ({}) } as never, FORMAT_HTTP_HEADERS, {}));
});

t.test('flush and close resolve; spans after close are dropped', async (t) => {
  const { tracer, exporter } = setup();
  tracer.startSpan('a').finish();
  await tracer.flush();
  await tracer.close();
  tracer.startSpan('b').finish();
  t.same(exporter.getFinishedSpans().map((s) => s.operationName), ['a']);
});
