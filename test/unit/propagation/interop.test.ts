// Interop: what we write in one format must be what another tracer expects, and what other tracers
// write must come out as the same trace. Vectors come from the specifications' own examples
// (W3C Trace Context, W3C Baggage, openzipkin/b3-propagation, Jaeger's propagation format).
import t from 'tap';
import { extract, inject } from './helpers.js';

const ALL = ['tracecontext', 'baggage', 'b3', 'jaeger'];

t.test('W3C example from OpenTelemetry to Zipkin (b3) and Jaeger peers', async (t) => {
  const ctx = extract(ALL, {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    baggage: 'userId=alice,serverNode=DF%2028,isProduction=false',
  });
  t.same(inject(['b3'], ctx!), { b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' });
  t.same(inject(['b3multi'], ctx!), { 'x-b3-traceid': '4bf92f3577b34da6a3ce929d0e0e4736', 'x-b3-spanid': '00f067aa0ba902b7', 'x-b3-sampled': '1' });
  t.same(inject(['jaeger'], ctx!), {
    'uber-trace-id': '4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1',
    'uberctx-userid': 'alice', 'uberctx-servernode': 'DF%2028', 'uberctx-isproduction': 'false',
  });
});

t.test('Zipkin b3 single example to a W3C peer', async (t) => {
  const ctx = extract(ALL, { b3: '80f198ee56343ba8-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90' });
  t.same(inject(['tracecontext'], ctx!), { traceparent: '00-000000000000000080f198ee56343ba8-e457b5a2e4d86bd1-01' });
});

t.test('Zipkin X-B3 multi example (128-bit) to a W3C peer', async (t) => {
  const ctx = extract(ALL, {
    'X-B3-TraceId': '463ac35c9f6413ad48485a3953bb6124', 'X-B3-SpanId': 'a2fb4a1d1a96d312',
    'X-B3-ParentSpanId': '0020000000000001', 'X-B3-Sampled': '1',
  });
  t.same(inject(['tracecontext'], ctx!), { traceparent: '00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01' });
});

t.test('Jaeger client header (leading zeros dropped, debug) to W3C and B3 peers', async (t) => {
  const ctx = extract(ALL, { 'uber-trace-id': 'c1f4b5b2a3e1d0f:2a2b2c2d2e2f:0:3', 'uberctx-tenant': 'acme' });
  t.same(inject(['tracecontext', 'baggage'], ctx!), { traceparent: '00-00000000000000000c1f4b5b2a3e1d0f-00002a2b2c2d2e2f-01', baggage: 'tenant=acme' });
  t.equal(inject(['b3'], ctx!).b3, '00000000000000000c1f4b5b2a3e1d0f-00002a2b2c2d2e2f-d');
});

t.test('an unsampled W3C parent stays unsampled in every format', async (t) => {
  const ctx = extract(ALL, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' });
  const out = inject(['tracecontext', 'b3', 'b3multi', 'jaeger'], ctx!);
  t.equal(out.traceparent.slice(-2), '00');
  t.equal(out.b3.slice(-2), '-0');
  t.equal(out['x-b3-sampled'], '0');
  t.equal(out['uber-trace-id'].slice(-2), ':0');
});
