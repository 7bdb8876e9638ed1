import t from 'tap';
import { Tracer, InMemorySpanExporter, followsFrom, recordError, Tags } from '../../../src/index.js';
import { mapSpan, SpanKind, StatusCode } from '../../../src/export/span-model.js';

function finished(build: (tracer: Tracer) => void) {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  build(tracer);
  return exporter.getFinishedSpans();
}

t.test('span.kind tags map to OTLP kinds and are not repeated as attributes', async (t) => {
  const kinds: [string | undefined, number][] = [
    [Tags.SPAN_KIND_RPC_SERVER, SpanKind.SERVER],
    [Tags.SPAN_KIND_RPC_CLIENT, SpanKind.CLIENT],
    [Tags.SPAN_KIND_MESSAGING_PRODUCER, SpanKind.PRODUCER],
    [Tags.SPAN_KIND_MESSAGING_CONSUMER, SpanKind.CONSUMER],
    ['something-else', SpanKind.INTERNAL],
    [undefined, SpanKind.INTERNAL],
  ];
  for (const [tag, expected] of kinds) {
    const [span] = finished((tracer) => tracer.startSpan('op', { tags: tag === undefined ? {} : { [Tags.SPAN_KIND]: tag, x: 1 } }).finish());
    const mapped = mapSpan(span!, { exportBaggage: false });
    t.equal(mapped.kind, expected, `kind for ${tag}`);
    t.notOk(mapped.attributes.some((a) => a.key === Tags.SPAN_KIND), 'span.kind not an attribute');
  }
});

t.test('an error becomes status ERROR with the message and an exception event', async (t) => {
  const [span] = finished((tracer) => {
    const s = tracer.startSpan('op');
    recordError(s, new TypeError('boom'));
    s.finish();
  });
  const mapped = mapSpan(span!, { exportBaggage: false });
  t.equal(mapped.statusCode, StatusCode.ERROR);
  t.equal(mapped.statusMessage, 'boom');
  t.notOk(mapped.attributes.some((a) => a.key === 'error'), 'error tag is structure, not an attribute');
  t.equal(mapped.events.length, 1);
  const event = mapped.events[0]!;
  t.equal(event.name, 'exception');
  const attrs = Object.fromEntries(event.attributes.map((a) => [a.key, a.value]));
  t.equal(attrs['exception.type'], 'TypeError');
  t.equal(attrs['exception.message'], 'boom');
  t.match(String(attrs['exception.stacktrace']), /TypeError: boom/);
});

t.test('error=false leaves the status unset; a plain error tag without a log has no message', async (t) => {
  const spans = finished((tracer) => {
    tracer.startSpan('ok', { tags: { error: false } }).finish();
    tracer.startSpan('bad', { tags: { error: true } }).finish();
  });
  t.equal(mapSpan(spans[0]!, { exportBaggage: false }).statusCode, StatusCode.UNSET);
  const bad = mapSpan(spans[1]!, { exportBaggage: false });
  t.equal(bad.statusCode, StatusCode.ERROR);
  t.equal(bad.statusMessage, '');
});

t.test('logs become events with their time and fields; objects are JSON', async (t) => {
  const [span] = finished((tracer) => {
    const s = tracer.startSpan('op', { startTime: 1000 });
    s.log({ event: 'cache.miss', key: 'user:1', size: 3, hit: false, meta: { a: 1 } }, 1001.5);
    s.log({ note: 'no event name' }, 1002);
    s.finish(1003);
  });
  const mapped = mapSpan(span!, { exportBaggage: false });
  t.same(mapped.events.map((e) => [e.name, e.timeMs]), [['cache.miss', 1001.5], ['log', 1002]]);
  t.same(Object.fromEntries(mapped.events[0]!.attributes.map((a) => [a.key, a.value])), { key: 'user:1', size: 3, hit: false, meta: '{"a":1}' });
  t.equal(mapped.durationMs, 3);
});

t.test('follows_from references become links; the parent does not', async (t) => {
  const spans = finished((tracer) => {
    const cause = tracer.startSpan('cause');
    cause.finish();
    const parent = tracer.startSpan('parent');
    tracer.startSpan('child', { childOf: parent, references: [followsFrom(cause)] }).finish();
    parent.finish();
  });
  const child = mapSpan(spans[1]!, { exportBaggage: false });
  t.equal(child.parentSpanId, spans[2]!.context().spanId);
  t.equal(child.links.length, 1);
  t.equal(child.links[0]!.spanId, spans[0]!.context().spanId);
  t.same(child.links[0]!.attributes, [{ key: 'opentracing.ref_type', value: 'follows_from' }]);
});

t.test('baggage is exported only when asked to', async (t) => {
  const [span] = finished((tracer) => {
    const s = tracer.startSpan('op');
    s.setBaggageItem('user', 'alice');
    s.finish();
  });
  t.notOk(mapSpan(span!, { exportBaggage: false }).attributes.some((a) => a.key.startsWith('baggage.')));
  t.same(mapSpan(span!, { exportBaggage: true }).attributes.filter((a) => a.key.startsWith('baggage.')), [{ key: 'baggage.user', value: 'alice' }]);
});
