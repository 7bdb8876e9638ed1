import t from 'tap';
import { BridgeContext, ROOT } from '../../../instrumentations/opentelemetry/context.js';
import { SpanBridge } from '../../../instrumentations/opentelemetry/bridge.js';
import { Tracer } from '../../../src/index.js';

// The bridge's Context keeps its entries in a flat array (a Map index once it is long): it must
// behave exactly as the API's own copy-on-write BaseContext, short or long.

t.test('setValue, getValue and deleteValue copy on write, short and long contexts alike', async (t) => {
  const keys = Array.from({ length: 40 }, (_, i) => Symbol(`k${i}`));
  let ctx = ROOT;
  const seen: BridgeContext[] = [];
  for (let i = 0; i < keys.length; i++) {
    const next = ctx.setValue(keys[i]!, i) as BridgeContext;
    t.not(next, ctx, 'setValue returns a new context');
    t.equal(ctx.getValue(keys[i]!), undefined, 'the context it came from is unchanged');
    seen.push(next);
    ctx = next;
  }
  for (let i = 0; i < keys.length; i++) t.equal(ctx.getValue(keys[i]!), i, `key ${i} found in a context of ${keys.length} keys`);
  t.equal(seen[3]!.getValue(keys[3]!), 3);
  t.equal(seen[3]!.getValue(keys[4]!), undefined, 'an earlier context never sees a later key');

  const replaced = ctx.setValue(keys[5]!, 'five');
  t.equal(replaced.getValue(keys[5]!), 'five', 'setting a key again replaces its value');
  t.equal(ctx.getValue(keys[5]!), 5, 'in the new context only');
  t.equal(replaced.getValue(keys[39]!), 39, 'and keeps the others');

  const removed = ctx.deleteValue(keys[0]!);
  t.equal(removed.getValue(keys[0]!), undefined, 'deleteValue removes the key');
  t.equal(removed.getValue(keys[1]!), 1, 'and only it');
  t.equal(ctx.getValue(keys[0]!), 0, 'from the new context only');
  t.equal(ROOT.deleteValue(keys[0]!).getValue(keys[0]!), undefined, 'deleting a missing key is harmless');

  const undefinedValue = ROOT.setValue(keys[0]!, undefined);
  t.equal(undefinedValue.getValue(keys[0]!), undefined, 'a key set to undefined reads undefined');
  t.equal(ROOT.getValue(keys[0]!), undefined, 'ROOT stays empty');
});

t.test('a span of ours has one OpenTelemetry face, kept on the span', async (t) => {
  const tracer = new Tracer();
  const bridge = new SpanBridge(tracer);
  const span = tracer.startSpan('request');
  t.equal(bridge.existingFace(span), undefined, 'no face before one is asked for');
  const face = bridge.face(span);
  t.equal(bridge.face(span), face, 'the same face every time');
  t.equal(bridge.existingFace(span), face);
  t.equal(face.span, span);
  t.equal(new SpanBridge(tracer).face(span), face, 'whichever bridge asks');
});
