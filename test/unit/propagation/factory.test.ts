import t from 'tap';
import { Tracer } from '../../../src/tracer.js';
import { FORMAT_HTTP_HEADERS } from '../../../src/api/formats.js';
import { SpanContext } from '../../../src/api/span-context.js';
import { createPropagator, PROPAGATOR_NAMES } from '../../../src/propagation/factory.js';
import { extract, inject, PARENT, SPAN, TRACE } from './helpers.js';

const B3_TRACE = '463ac35c9f6413ad48485a3953bb6124';
const B3_SPAN = 'a2fb4a1d1a96d312';
const both = { traceparent: PARENT, b3: `${B3_TRACE}-${B3_SPAN}-1` };

t.test('names: every TRACING_PROPAGATION / OTEL_PROPAGATORS name we document is known', async (t) => {
  t.same([...PROPAGATOR_NAMES].sort(), ['b3', 'b3multi', 'baggage', 'jaeger', 'none', 'tracecontext']);
});

t.test('order rule: extraction takes the first valid context in list order', async (t) => {
  t.equal(extract(['tracecontext', 'b3'], both)?.traceId, TRACE);
  t.equal(extract(['b3', 'tracecontext'], both)?.traceId, B3_TRACE);
});

t.test('order rule: an invalid earlier format falls through to the next valid one', async (t) => {
  t.equal(extract(['tracecontext', 'b3'], { ...both, traceparent: 'junk' })?.traceId, B3_TRACE);
});

t.test('order rule: injection writes every listed format', async (t) => {
  const out = inject(['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'], new SpanContext(TRACE, SPAN, 1, '', { k: 'v' }));
  t.same(Object.keys(out).sort(), ['b3', 'baggage', 'traceparent', 'uber-trace-id', 'uberctx-k', 'x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
});

t.test('names are matched without case or spaces; repeats, unknown names and none add nothing', async (t) => {
  const p = createPropagator([' TraceContext ', 'tracecontext', 'xray', 'none']);
  t.same([...p.fields()], ['traceparent', 'tracestate']);
  t.same([...createPropagator(['none']).fields()], []);
  t.equal(extract(['none'], both), null);
});

t.test('carriers: one getter/setter for every carrier kind, through the Tracer', async (t) => {
  const tracer = new Tracer({ propagator: createPropagator(['tracecontext', 'baggage', 'b3multi']) });
  const headers = { traceparent: PARENT, baggage: 'a=1' };
  const carriers: [string, unknown][] = [
    ['IncomingHttpHeaders', { ...headers }], ['any case', { TraceParent: PARENT, BAGGAGE: 'a=1' }],
    ['Map', new Map(Object.entries(headers))], ['Headers', new Headers(headers)],
    ['undici flat array', Object.entries(headers).flat()], ['pair array', Object.entries(headers)],
    ['undici Buffer array', Object.entries(headers).flat().map((s) => Buffer.from(s))],
  ];
  for (const [kind, carrier] of carriers) {
    const ctx = tracer.extract(FORMAT_HTTP_HEADERS, carrier);
    t.equal(ctx?.traceId, TRACE, kind);
    t.equal(ctx?.getBaggageItem('a'), '1', kind);
  }
  for (const [kind, carrier, read] of [
    ['object', {} as unknown, (c: unknown) => (c as Record<string, string>)['x-b3-traceid']],
    ['Map', new Map(), (c: unknown) => (c as Map<string, string>).get('x-b3-traceid')],
    ['Headers', new Headers(), (c: unknown) => (c as Headers).get('x-b3-traceid')],
    ['flat array', [] as unknown[], (c: unknown) => (c as string[])[(c as string[]).indexOf('x-b3-traceid') + 1]],
  ] as const) {
    tracer.inject(new SpanContext(TRACE, SPAN), FORMAT_HTTP_HEADERS, carrier);
    t.equal(read(carrier), TRACE, `inject into ${kind}`);
  }
});

t.test('carriers: inject replaces a header present in another case', async (t) => {
  const carrier: Record<string, string> = { TraceParent: 'old', Other: 'kept' };
  createPropagator(['tracecontext']).inject(new SpanContext(TRACE, SPAN), carrier, (await import('../../../src/api/carrier.js')).defaultSetter);
  t.same(carrier, { Other: 'kept', traceparent: `00-${TRACE}-${SPAN}-01` });
});
