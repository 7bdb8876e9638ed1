// B3 (https://github.com/openzipkin/b3-propagation) and Jaeger
// (https://www.jaegertracing.io/docs/client-libraries/#propagation-format) rules, one per test.
import t from 'tap';
import { SpanContext } from '../../../src/api/span-context.js';
import { extract, inject, SPAN, TRACE } from './helpers.js';

const ZIPKIN_TRACE64 = '80f198ee56343ba8';
const ZIPKIN_SPAN = 'e457b5a2e4d86bd1';
const ZIPKIN_PARENT = '05e3ac9a4f6e3b90';
const PADDED = `0000000000000000${ZIPKIN_TRACE64}`;

t.test('b3 single: trace-span-sampled-parent is read', async (t) => {
  const ctx = extract('b3', { b3: `${ZIPKIN_TRACE64}-${ZIPKIN_SPAN}-1-${ZIPKIN_PARENT}` });
  t.equal(ctx?.traceId, PADDED, '64-bit trace id left-padded');
  t.equal(ctx?.spanId, ZIPKIN_SPAN);
  t.equal(ctx?.sampled, true);
  t.equal(ctx?.isRemote, true);
});

t.test('b3 single: sampling state and parent are optional; absent sampling reads as not sampled', async (t) => {
  const ctx = extract('b3', { b3: `${TRACE}-${SPAN}` });
  t.equal(ctx?.traceId, TRACE);
  t.equal(ctx?.sampled, false);
  t.equal(extract('b3', { b3: `${TRACE}-${SPAN}-0` })?.sampled, false);
});

t.test('b3 single: debug (d) means sampled and is passed on', async (t) => {
  const ctx = extract('b3', { b3: `${TRACE}-${SPAN}-d` });
  t.equal(ctx?.sampled, true);
  t.equal(inject('b3', ctx!).b3, `${TRACE}-${SPAN}-d`);
  t.same(inject('b3multi', ctx!), { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }, 'debug implies sampled: no X-B3-Sampled');
});

t.test('b3 single: a sampling-only header carries no context', async (t) => {
  for (const v of ['0', '1', 'd']) t.equal(extract('b3', { b3: v }), null, v);
});

t.test('b3 single: malformed values are invalid', async (t) => {
  const bad = [
    `${TRACE.slice(1)}-${SPAN}-1`, `${'0'.repeat(32)}-${SPAN}-1`, `${TRACE}-${'0'.repeat(16)}-1`, `${TRACE}-${SPAN}-2`,
    `${TRACE}-${SPAN}-1-`, `${TRACE}-${SPAN}-1-abc`, `${TRACE}-${SPAN}1`, `${TRACE}--${SPAN}`, `${TRACE}x-${SPAN}`, '-', '',
    `${TRACE}-${SPAN}-1-${ZIPKIN_PARENT}-x`,
  ];
  for (const v of bad) t.equal(extract('b3', { b3: v }), null, JSON.stringify(v));
});

t.test('b3 multi: X-B3-* headers are read (any case), 64-bit ids padded', async (t) => {
  const ctx = extract('b3multi', {
    'X-B3-TraceId': ZIPKIN_TRACE64, 'X-B3-SpanId': ZIPKIN_SPAN, 'X-B3-ParentSpanId': ZIPKIN_PARENT, 'X-B3-Sampled': '1',
  });
  t.equal(ctx?.traceId, PADDED);
  t.equal(ctx?.spanId, ZIPKIN_SPAN);
  t.equal(ctx?.sampled, true);
});

t.test('b3 multi: X-B3-Sampled accepts 1/0 and the legacy true/false', async (t) => {
  const base = { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN };
  t.equal(extract('b3multi', { ...base, 'x-b3-sampled': 'true' })?.sampled, true);
  t.equal(extract('b3multi', { ...base, 'x-b3-sampled': 'false' })?.sampled, false);
  t.equal(extract('b3multi', { ...base, 'x-b3-sampled': '0' })?.sampled, false);
  t.equal(extract('b3multi', { ...base, 'x-b3-sampled': 'yes' }), null);
});

t.test('b3 multi: X-B3-Flags: 1 (debug) means sampled', async (t) => {
  t.equal(extract('b3multi', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' })?.sampled, true);
});

t.test('b3 multi: a missing id, bad id or repeated header is invalid', async (t) => {
  t.equal(extract('b3multi', { 'x-b3-traceid': TRACE }), null);
  t.equal(extract('b3multi', { 'x-b3-traceid': TRACE, 'x-b3-spanid': 'nothex0000000000' }), null);
  t.equal(extract('b3multi', { 'x-b3-traceid': [TRACE, TRACE], 'x-b3-spanid': SPAN }), null);
  t.equal(extract('b3multi', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': 'x' }), null);
});

t.test('b3: both b3 and b3multi read both encodings; they differ only in what they write', async (t) => {
  t.equal(extract('b3', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN })?.traceId, TRACE);
  t.equal(extract('b3multi', { b3: `${TRACE}-${SPAN}-1` })?.traceId, TRACE);
  const ctx = new SpanContext(TRACE, SPAN, 1);
  t.same(inject('b3', ctx), { b3: `${TRACE}-${SPAN}-1` });
  t.same(inject('b3multi', ctx), { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
});

t.test('b3: upper-case hex from lenient senders is accepted and normalised', async (t) => {
  t.equal(extract('b3', { b3: `${TRACE.toUpperCase()}-${SPAN.toUpperCase()}-1` })?.traceId, TRACE);
});

t.test('jaeger: uber-trace-id is read; short ids are left-padded', async (t) => {
  const ctx = extract('jaeger', { 'uber-trace-id': `${TRACE}:${SPAN}:0:1` });
  t.equal(ctx?.traceId, TRACE);
  t.equal(ctx?.spanId, SPAN);
  t.equal(ctx?.sampled, true);
  const short = extract('jaeger', { 'uber-trace-id': 'abc:1f:0:0' });
  t.equal(short?.traceId, `${'0'.repeat(29)}abc`);
  t.equal(short?.spanId, `${'0'.repeat(14)}1f`);
  t.equal(short?.sampled, false);
});

t.test('jaeger: a URL-encoded uber-trace-id is read', async (t) => {
  t.equal(extract('jaeger', { 'uber-trace-id': `${TRACE}%3A${SPAN}%3A0%3A1` })?.spanId, SPAN);
});

t.test('jaeger: flag 0x02 (debug) means sampled and is passed on', async (t) => {
  const ctx = extract('jaeger', { 'uber-trace-id': `${TRACE}:${SPAN}:0:2` });
  t.equal(ctx?.sampled, true);
  t.equal(inject('jaeger', ctx!)['uber-trace-id'], `${TRACE}:${SPAN}:0:3`);
});

t.test('jaeger: malformed uber-trace-id values are invalid', async (t) => {
  const bad = [`${TRACE}:${SPAN}:0`, `${TRACE}:${SPAN}:0:1:9`, `0:${SPAN}:0:1`, `${TRACE}:0:0:1`, `${TRACE}0:${SPAN}:0:1`,
    `${TRACE}:${SPAN}:0:xyz`, `${TRACE}:${SPAN}::1`, `${TRACE}:${SPAN}:0:`, ':::'];
  for (const v of bad) t.equal(extract('jaeger', { 'uber-trace-id': v }), null, v);
});

t.test('jaeger: uberctx-* headers are baggage, percent-decoded, both ways', async (t) => {
  const ctx = extract('jaeger', { 'uber-trace-id': `${TRACE}:${SPAN}:0:1`, 'uberctx-user': 'alice%20b', 'Uberctx-Tier': 'gold' });
  t.same({ ...ctx?.baggage }, { user: 'alice b', tier: 'gold' });
  t.same(inject('jaeger', ctx!), { 'uber-trace-id': `${TRACE}:${SPAN}:0:1`, 'uberctx-user': 'alice%20b', 'uberctx-tier': 'gold' });
});

t.test('jaeger: uberctx-* baggage joins a context another format found', async (t) => {
  const ctx = extract(['tracecontext', 'jaeger'], { traceparent: `00-${TRACE}-${SPAN}-01`, 'uberctx-k': 'v' });
  t.equal(ctx?.getBaggageItem('k'), 'v');
});
