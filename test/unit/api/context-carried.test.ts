import t from 'tap';
import { InMemorySpanExporter, SpanContext, Tracer } from '../../../src/index.js';

// A local child shares what its parent's context carries (trace state, baggage, extra) in one object
// (api/span-context.ts): reading it must give the parent's values, and changing the child's baggage must
// leave the parent's, and its other children's, as they were.
t.test("a child's context carries its parent's trace state, baggage and extra, and changes stay its own", async (t) => {
  const tracer = new Tracer({ processor: new InMemorySpanExporter() });
  const remote = SpanContext.remote('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 1, 'vendor=a', { 'b3.parent': 'x' }).withBaggageItem('user', 'u1');
  t.equal(remote.isRemote, true);
  const child = tracer.startSpan('child', { childOf: remote });
  const sibling = tracer.startSpan('sibling', { childOf: remote });
  for (const span of [child, sibling]) {
    const ctx = span.context();
    t.equal(ctx.isRemote, false, 'a local span is not remote');
    t.equal(ctx.traceState, 'vendor=a');
    t.same(ctx.extra, { 'b3.parent': 'x' });
    t.equal(ctx.getBaggageItem('user'), 'u1');
    t.equal(ctx.traceId, '0af7651916cd43dd8448eb211c80319c');
  }
  child.setBaggageItem('user', 'u2').setBaggageItem('more', 'm');
  t.equal(child.getBaggageItem('user'), 'u2');
  t.equal(child.context().traceState, 'vendor=a', 'the trace state stays with the new baggage');
  t.same(child.context().extra, { 'b3.parent': 'x' });
  t.equal(sibling.getBaggageItem('user'), 'u1', "the sibling's baggage unchanged");
  t.equal(sibling.getBaggageItem('more'), undefined);
  t.equal(remote.getBaggageItem('user'), 'u1', "the parent's baggage unchanged");
  const grandchild = tracer.startSpan('grandchild', { childOf: child });
  t.equal(grandchild.getBaggageItem('more'), 'm', "a grandchild carries the child's new baggage");
  const root = tracer.startSpan('root');
  t.equal(root.context().traceState, '');
  t.equal(root.context().baggage, null);
  t.equal(root.context().extra, null);
  const made = new SpanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 1, 'k=v', null, true, null);
  t.equal(made.traceState, 'k=v');
  t.equal(made.isRemote, true);
});
