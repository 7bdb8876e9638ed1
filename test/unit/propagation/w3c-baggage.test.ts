// One test per rule of W3C Baggage (https://www.w3.org/TR/baggage/) that an implementation can
// break, named after the rule, plus our documented choices.
import t from 'tap';
import { SpanContext } from '../../../src/api/span-context.js';
import { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, parseBaggage } from '../../../src/propagation/w3c-baggage.js';
import { extract, inject, PARENT, SPAN, TRACE } from './helpers.js';

const W3C = ['tracecontext', 'baggage'];
const bag = (baggage: unknown) => extract(W3C, { traceparent: PARENT, baggage });
const items = (baggage: unknown) => ({ ...bag(baggage)?.baggage });

t.test('baggage: key=value list members are read', async (t) => {
  t.same(items('userId=alice,serverNode=DF28,isProduction=false'), { userId: 'alice', serverNode: 'DF28', isProduction: 'false' });
});

t.test('baggage: optional whitespace around members, keys, = and values is ignored', async (t) => {
  t.same(items(' a = 1 ,\tb=2\t, c =3 '), { a: '1', b: '2', c: '3' });
});

t.test('baggage: values are percent-decoded as UTF-8', async (t) => {
  t.same(items('a=DF%2028,b=%E2%82%AC,c=%3B%2C%25'), { a: 'DF 28', b: '€', c: ';,%' });
});

t.test('baggage: percent-encoded octets that are not UTF-8 MUST become U+FFFD', async (t) => {
  t.equal(bag('a=x%FFy')?.getBaggageItem('a'), 'x\ufffdy');
  t.equal(bag('a=%E2%82')?.getBaggageItem('a'), '\ufffd');
});

t.test('baggage: a % without two hex digits is kept literally', async (t) => {
  t.equal(bag('a=100%,b=%zz')?.getBaggageItem('a'), '100%');
  t.equal(bag('a=100%,b=%zz')?.getBaggageItem('b'), '%zz');
});

t.test('baggage: values are written percent-encoded outside baggage-octet, and % itself', async (t) => {
  const out = inject('baggage', new SpanContext(TRACE, SPAN, 1, '', { a: 'x y', b: '€', c: '"\\;,%', d: "a!#$&'()*+-./:<=>?@[]^_`{|}~" }));
  t.equal(out.baggage, "a=x%20y,b=%E2%82%AC,c=%22%5C%3B%2C%25,d=a!#$&'()*+-./:<=>?@[]^_`{|}~");
});

t.test('baggage: a lone surrogate is written as U+FFFD, not thrown on', async (t) => {
  t.equal(inject('baggage', new SpanContext(TRACE, SPAN, 1, '', { a: 'x\ud800' })).baggage, 'a=x%EF%BF%BD');
});

t.test('baggage: keys are RFC 9110 tokens; invalid members are skipped, valid ones kept', async (t) => {
  t.same(items('good=1,bad key=2,"q"=3,=4,noequals,ok=5'), { good: '1', ok: '5' });
});

t.test('baggage: values with characters outside baggage-octet make the member invalid', async (t) => {
  t.same(items('a=x y,b="q",c=back\\slash,d=é,ok=1'), { ok: '1' });
});

t.test('baggage: an empty value is allowed', async (t) => {
  t.equal(bag('a=')?.getBaggageItem('a'), '');
});

t.test('baggage: properties (;k=v and ;k) are kept and written back unchanged', async (t) => {
  const ctx = bag('a=1;p=2;flag,b=3');
  t.equal(ctx?.getBaggageItem('a'), '1');
  t.equal(ctx?.getBaggageItemProperties('a'), 'p=2;flag');
  t.equal(ctx?.getBaggageItemProperties('b'), undefined);
  t.equal(inject('baggage', ctx!).baggage, 'a=1;p=2;flag,b=3');
});

t.test('baggage: properties follow child contexts and survive changes to other items', async (t) => {
  const ctx = bag('a=1;p=2')!.withBaggageItem('b', '3');
  t.equal(inject('baggage', ctx).baggage, 'a=1;p=2,b=3');
  t.equal(ctx.withBaggageItem('a', 'new').getBaggageItemProperties('a'), undefined, 'a new value drops the old properties');
});

t.test('baggage: a malformed property makes its member invalid', async (t) => {
  t.same(items('a=1;,b=2;p=x y,c=3;=v,ok=4'), { ok: '4' });
});

t.test('baggage: several baggage headers are joined', async (t) => {
  t.same(items(['a=1', 'b=2,c=3']), { a: '1', b: '2', c: '3' });
});

t.test('baggage: a repeated key keeps the last value', async (t) => {
  t.same(items('a=1,a=2'), { a: '2' });
});

t.test('baggage: at least 64 members and 8192 bytes are accepted', async (t) => {
  const members = Array.from({ length: 64 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(123)}`);
  const header = members.join(',');
  t.equal(header.length, 8191);
  t.equal(Object.keys(items(header)).length, 64);
  t.equal(inject('baggage', bag(header)!).baggage, header, 'and written back whole');
});

t.test('baggage: beyond our limits members are dropped whole, never cut', async (t) => {
  const many = Array.from({ length: MAX_BAGGAGE_MEMBERS + 5 }, (_, i) => `k${i}=1`).join(',');
  t.equal(Object.keys(items(many)).length, MAX_BAGGAGE_MEMBERS, 'members');
  const big = `a=1,b=${'x'.repeat(MAX_BAGGAGE_BYTES)},c=2`;
  t.same(items(big), { a: '1', c: '2' }, 'bytes: the over-long member goes, the rest stays');
  const ctx = new SpanContext(TRACE, SPAN, 1, '', { a: 'x'.repeat(5000), b: 'y'.repeat(5000), c: 'z' });
  t.equal(inject('baggage', ctx).baggage, `a=${'x'.repeat(5000)},c=z`, 'inject drops b whole');
});

t.test('baggage: keys that cannot be written as tokens are skipped on inject', async (t) => {
  t.equal(inject('baggage', new SpanContext(TRACE, SPAN, 1, '', { 'bad key': '1', ok: '2' })).baggage, 'ok=2');
});

t.test('baggage: without a valid trace context the header is dropped (documented choice)', async (t) => {
  t.equal(extract(W3C, { baggage: 'a=1' }), null);
  t.equal(extract(W3C, { traceparent: 'junk', baggage: 'a=1' }), null);
});

t.test('baggage: listed before tracecontext still attaches to the context found', async (t) => {
  t.equal(extract(['baggage', 'tracecontext'], { traceparent: PARENT, baggage: 'a=1' })?.getBaggageItem('a'), '1');
});

t.test('baggage: __proto__ and constructor keys are plain data', async (t) => {
  const parsed = parseBaggage('__proto__=x,constructor=y');
  t.equal((parsed as Record<string, unknown>).toString, undefined, 'nothing inherited');
  t.equal(parsed?.['__proto__'], 'x');
  t.equal(({} as Record<string, unknown>).x, undefined);
});

t.test('baggage: inject -> extract is identity for decoded values', async (t) => {
  const values = { a: 'plain', b: 'with space', c: '€ and 😀', d: '%41', e: '', f: ',;"\\' };
  const back = bag(inject('baggage', new SpanContext(TRACE, SPAN, 1, '', values)).baggage);
  t.same({ ...back?.baggage }, values);
});

t.test('baggage: properties and values reach the next hop through a child span', async (t) => {
  const { Tracer } = await import('../../../src/tracer.js');
  const { createPropagator } = await import('../../../src/propagation/factory.js');
  const tracer = new Tracer({ propagator: createPropagator(W3C) });
  const parent = tracer.extract('http_headers', { traceparent: PARENT, baggage: 'a=1;p=2,b=x%20y' });
  const child = tracer.startSpan('child', { childOf: parent });
  const out: Record<string, string> = {};
  tracer.inject(child, 'http_headers', out);
  t.equal(out.baggage, 'a=1;p=2,b=x%20y');
  t.not(out.traceparent, PARENT, 'with the child as the new parent');
});
