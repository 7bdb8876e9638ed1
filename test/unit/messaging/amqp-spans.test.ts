import t from 'tap';
import { InMemorySpanExporter, Tracer } from '../../../src/index.js';
import {
  BASIC_ACK, BASIC_NACK, BASIC_REJECT, channelState, operationName, readAmqpOptions, settleByFrame, startConsumerSpan, startProducerSpan,
} from '../../../instrumentations/messaging/amqp-spans.js';
import { peerFromUrl } from '../../../instrumentations/messaging/amqplib.js';

function setup() {
  const exporter = new InMemorySpanExporter();
  return { exporter, tracer: new Tracer({ processor: exporter }) };
}

t.test('span names stay few: server-named queues and the default exchange get a label', async (t) => {
  t.equal(operationName('publish', 'orders'), 'publish orders');
  t.equal(operationName('process', 'amq.gen-JzTY20BRgKO-HjmUJj0wLg'), 'process (temporary)');
  t.equal(operationName('receive', ''), 'receive (default)');
});

t.test("the context goes into amqplib's headers object, never into the app's, and never over an app header", async (t) => {
  const { tracer } = setup();
  const parent = tracer.startSpan('request');
  const app = { 'x-app': '1' };
  const sent = Object.create(app) as Record<string, unknown>; // what amqplib's Args.publish builds
  const span = startProducerSpan(tracer, parent, { exchange: '', routingKey: 'q' }, { headers: sent }, Buffer.from('body'), undefined);
  t.same(app, { 'x-app': '1' }, "the app's object is unchanged");
  t.match(sent.traceparent, new RegExp(`^00-${span.context().traceId}-${span.context().spanId}-0[13]$`));

  const mine = { TraceParent: '00-11111111111111111111111111111111-2222222222222222-01' };
  const sent2 = Object.create(mine) as Record<string, unknown>;
  startProducerSpan(tracer, parent, { exchange: 'ex', routingKey: 'k' }, { headers: sent2 }, Buffer.from(''), undefined);
  t.notOk(Object.hasOwn(sent2, 'traceparent'), 'an app header of the same name, in any case, wins');
});

t.test('a consumer span continues the carried context, else the fallback, else a new trace', async (t) => {
  const { tracer } = setup();
  const producer = tracer.startSpan('publish q');
  const headers: Record<string, string> = {};
  tracer.inject(producer, 'text_map', headers);
  const message = (h: unknown) => ({ fields: { deliveryTag: 1, exchange: '', routingKey: 'q' }, properties: { headers: h }, content: Buffer.from('x') });
  const active = tracer.startSpan('active');
  tracer.scopeManager.run(active, () => {
    const child = startConsumerSpan(tracer, message(headers), 'q', 'process', null, undefined);
    t.equal(child.parentSpanId, producer.context().spanId, 'child of the producer');
    const root = startConsumerSpan(tracer, message(undefined), 'q', 'process', null, undefined);
    t.equal(root.parentSpanId, '', 'no context: a new trace, not a child of the active span');
    const bad = startConsumerSpan(tracer, message({ traceparent: 'garbage' }), 'q', 'process', null, undefined);
    t.equal(bad.parentSpanId, '', 'a malformed context: a new trace');
    const got = startConsumerSpan(tracer, message(undefined), 'q', 'receive', active, undefined);
    t.equal(got.parentSpanId, active.context().spanId, 'get: the caller is the fallback parent');
  });
});

t.test('ack/nack/reject frames end the right spans, allUpTo and *All included', async (t) => {
  const { tracer, exporter } = setup();
  const channel = {};
  const state = channelState(channel);
  const open = (tags: number[]) => tags.forEach((tag) => state.unsettled.set(tag, tracer.startSpan(`m${tag}`)));
  const outcome = () => Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.operationName, [s.tags['messaging.rabbitmq.outcome'], s.tags['messaging.rabbitmq.requeue']]]));

  open([1, 2, 3, 4]);
  settleByFrame(state, BASIC_ACK, { deliveryTag: 2, multiple: false });
  t.same(outcome(), { m2: ['ack', undefined] });
  settleByFrame(state, BASIC_NACK, { deliveryTag: 3, multiple: true, requeue: false });
  t.same(outcome(), { m2: ['ack', undefined], m1: ['nack', false], m3: ['nack', false] }, 'allUpTo: every earlier tag');
  settleByFrame(state, BASIC_REJECT, { deliveryTag: 4, requeue: true });
  t.same(outcome().m4, ['reject', true]);
  t.equal(state.unsettled.size, 0);

  open([5, 6]);
  settleByFrame(state, BASIC_ACK, { deliveryTag: 0, multiple: true });
  t.same([outcome().m5, outcome().m6], [['ack', undefined], ['ack', undefined]], 'ackAll (tag 0, multiple)');
  settleByFrame(state, BASIC_ACK, { deliveryTag: 99, multiple: false });
  t.equal(exporter.getFinishedSpans().length, 6, 'an unknown tag ends nothing');
});

t.test('the broker address comes from the URL, never its credentials', async (t) => {
  const settings = { peerServices: { 'rabbit.internal': 'rabbitmq' }, messagingRootSpans: false };
  const options = readAmqpOptions({}, settings);
  t.same(peerFromUrl('amqp://user:secret@rabbit.internal/vhost', options), { hostname: 'rabbit.internal', port: 5672, service: 'rabbitmq' });
  t.same(peerFromUrl('amqps://u:p@[::1]:5700', options), { hostname: '::1', port: 5700, service: undefined });
  t.same(peerFromUrl({ protocol: 'amqp', hostname: 'h', port: 1234, username: 'u', password: 'p' }, options), { hostname: 'h', port: 1234, service: undefined });
  t.same(peerFromUrl(undefined, options), { hostname: 'localhost', port: 5672, service: undefined });
  t.equal(peerFromUrl('not a url', options), undefined);
  t.equal(options.rootSpans, false, 'root spans follow TRACING_MESSAGING_ROOT_SPANS');
  t.equal(readAmqpOptions({}, { ...settings, messagingRootSpans: true }).rootSpans, true);
  t.equal(readAmqpOptions({ messagingRootSpans: false }, { ...settings, messagingRootSpans: true }).rootSpans, false, 'the file section wins');
});
