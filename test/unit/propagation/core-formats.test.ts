import t from 'tap';
import { Tracer, FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP, FORMAT_BINARY, BinaryCarrier, SpanContext } from '../../../src/index.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

t.test('W3C traceparent/tracestate/baggage: extract from every carrier kind', async (t) => {
  const tracer = new Tracer();
  const headers = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', baggage: 'user=alice%20b,tier=gold;prop=1' };
  const carriers: [string, unknown][] = [
    ['plain object', headers],
    ['mixed case object', { Traceparent: headers.traceparent, TraceState: headers.tracestate, BAGGAGE: headers.baggage }],
    ['Map', new Map(Object.entries(headers))],
    ['Headers', new Headers(headers)],
    ['flat array', Object.entries(headers).flat()],
    ['pair array', Object.entries(headers)],
  ];
  for (const [kind, carrier] of carriers) {
    const ctx = tracer.extract(FORMAT_HTTP_HEADERS, carrier);
    t.ok(ctx, kind);
    t.equal(ctx?.traceId, TRACE, `${kind}: trace id`);
    t.equal(ctx?.spanId, SPAN, `${kind}: span id`);
    t.equal(ctx?.sampled, true, `${kind}: sampled`);
    t.equal(ctx?.traceState, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', `${kind}: tracestate`);
    t.equal(ctx?.getBaggageItem('user'), 'alice b', `${kind}: baggage decoded`);
    t.equal(ctx?.getBaggageItem('tier'), 'gold', `${kind}: baggage before its properties`);
  }
});

t.test('malformed traceparent values give null', async (t) => {
  const tracer = new Tracer();
  const bad = [
    '', 'garbage', `ff-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`, `00-${TRACE}-${SPAN}-0`, `00_${TRACE}-${SPAN}-01`,
    `0g-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-zz`,
  ];
  for (const value of bad) t.equal(tracer.extract(FORMAT_HTTP_HEADERS, { traceparent: value }), null, JSON.stringify(value));
  t.equal(tracer.extract(FORMAT_HTTP_HEADERS, { traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`] }), null, 'repeated header');
  const future = tracer.extract(FORMAT_HTTP_HEADERS, { traceparent: `01-${TRACE}-${SPAN}-01-what-comes-next` });
  t.equal(future?.traceId, TRACE, 'a higher version is read by its first four fields');
});

t.test('inject writes traceparent, tracestate and baggage that extract reads back', async (t) => {
  const tracer = new Tracer();
  const ctx = new SpanContext(TRACE, SPAN, 1, 'rojo=00f067aa0ba902b7', { k: 'v w', 'x-y': '1' });
  for (const format of [FORMAT_HTTP_HEADERS, FORMAT_TEXT_MAP]) {
    const carrier: Record<string, string> = {};
    tracer.inject(ctx, format, carrier);
    t.same(carrier, { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'rojo=00f067aa0ba902b7', baggage: 'k=v%20w,x-y=1' });
    const back = tracer.extract(format, carrier);
    t.equal(back?.traceId, TRACE);
    t.same({ ...back?.baggage }, { k: 'v w', 'x-y': '1' });
  }
});

t.test('a header named __proto__ cannot pollute prototypes', async (t) => {
  const tracer = new Tracer();
  const ctx = new SpanContext(TRACE, SPAN, 1, '', { __proto__: 'x', constructor: 'y' } as never);
  const carrier: Record<string, string> = {};
  tracer.inject(ctx, FORMAT_TEXT_MAP, carrier);
  t.equal(Object.getPrototypeOf(carrier), Object.prototype);
  const parsed = tracer.extract(FORMAT_TEXT_MAP, { traceparent: `00-${TRACE}-${SPAN}-01`, baggage: '__proto__=polluted,constructor=c' });
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(parsed?.getBaggageItem('__proto__'), 'polluted', 'kept as plain data');
});

t.test('binary format round-trips and rejects junk', async (t) => {
  const tracer = new Tracer();
  const ctx = new SpanContext(TRACE, SPAN, 1, 'rojo=1', { a: 'b' });
  const carrier = new BinaryCarrier();
  tracer.inject(ctx, FORMAT_BINARY, carrier);
  t.ok(carrier.buffer && carrier.buffer.length > 25);
  const back = tracer.extract(FORMAT_BINARY, carrier);
  t.equal(back?.traceId, TRACE);
  t.equal(back?.spanId, SPAN);
  t.equal(back?.traceFlags, 1);
  t.equal(back?.traceState, 'rojo=1');
  t.equal(back?.getBaggageItem('a'), 'b');
  t.equal(tracer.extract(FORMAT_BINARY, new BinaryCarrier([1, 2, 3])), null);
  t.equal(tracer.extract(FORMAT_BINARY, { buffer: null }), null);
  t.equal(tracer.extract(FORMAT_BINARY, {}), null);
  const truncated = new BinaryCarrier(Array.from(carrier.buffer!).slice(0, 31));
  t.equal(tracer.extract(FORMAT_BINARY, truncated), null);
});
