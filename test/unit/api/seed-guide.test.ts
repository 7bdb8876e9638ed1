// Every example of the OpenTracing guide (shared/reference/opentracing-python-guide.md), in TypeScript.
import t from 'tap';
import { Tracer, InMemorySpanExporter, FORMAT_HTTP_HEADERS, Tags, type Span, type SpanContext } from '../../../src/index.js';

interface Request { operation: string; headers: Record<string, string>; fullUrl: string; remoteIp?: string; remotePort?: number; callerName?: string }

function beforeRequest(request: Request, tracer: Tracer): Span {
  const spanContext = tracer.extract(FORMAT_HTTP_HEADERS, request.headers);
  const span = tracer.startSpan(request.operation, { childOf: spanContext });
  span.setTag(Tags.HTTP_URL, request.fullUrl);
  if (request.remoteIp) span.setTag(Tags.PEER_HOST_IPV4, request.remoteIp);
  if (request.callerName) span.setTag(Tags.PEER_SERVICE, request.callerName);
  if (request.remotePort) span.setTag(Tags.PEER_PORT, request.remotePort);
  return span;
}

interface OutRequest { operation: string; fullUrl: string; serviceName?: string; host: string; port: number; headers: Record<string, string> }

function beforeHttpRequest(tracer: Tracer, request: OutRequest, currentSpanExtractor: () => Span | null): Span {
  const parent = currentSpanExtractor();
  const outbound = tracer.startSpan(request.operation, { childOf: parent });
  outbound.setTag(Tags.HTTP_URL, request.fullUrl);
  if (request.serviceName) outbound.setTag(Tags.PEER_SERVICE, request.serviceName);
  outbound.setTag(Tags.PEER_HOST_IPV4, request.host);
  outbound.setTag(Tags.PEER_PORT, request.port);
  const carrier: Record<string, string> = {};
  tracer.inject(outbound, FORMAT_HTTP_HEADERS, carrier);
  for (const [key, value] of Object.entries(carrier)) request.headers[key] = value;
  return outbound;
}

t.test('inbound request continues the caller\'s trace, then an outbound request carries it on', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const request: Request = {
    operation: 'GET /orders',
    headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
    fullUrl: 'http://orders.local/orders',
    remoteIp: '10.0.0.7',
    remotePort: 51234,
    callerName: 'frontend',
  };
  const out: OutRequest = { operation: 'GET /stock', fullUrl: 'http://stock.local/stock', serviceName: 'stock', host: '10.0.0.9', port: 8080, headers: {} };

  const span = beforeRequest(request, tracer);
  {
    using scope = tracer.scopeManager.activate(span, true);
    const outbound = beforeHttpRequest(tracer, out, () => tracer.scopeManager.active()?.span ?? null);
    outbound.finish();
    t.equal(scope.span, span);
  }

  const [outbound, server] = exporter.getFinishedSpans();
  t.equal(server!.operationName, 'GET /orders');
  t.equal(server!.context().traceId, callerTrace);
  t.equal(server!.parentSpanId, '00f067aa0ba902b7');
  t.same({ ...server!.tags }, { 'http.url': 'http://orders.local/orders', 'peer.ipv4': '10.0.0.7', 'peer.service': 'frontend', 'peer.port': 51234 });
  t.equal(outbound!.parentSpanId, server!.context().spanId);
  t.same({ ...outbound!.tags }, { 'http.url': 'http://stock.local/stock', 'peer.service': 'stock', 'peer.ipv4': '10.0.0.9', 'peer.port': 8080 });
  t.equal(out.headers.traceparent, `00-${callerTrace}-${outbound!.context().spanId}-01`, 'the outbound header names the client span');
});

t.test('an inbound request with no trace starts a new root span', async (t) => {
  const tracer = new Tracer();
  const span = beforeRequest({ operation: 'GET /', headers: {}, fullUrl: 'http://x/' }, tracer);
  t.equal(span.parentSpanId, '');
});

t.test('scope access: tag the active span', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const scope = tracer.startActiveSpan('someWork');
  const active = tracer.scopeManager.active();
  if (active !== null) active.span.setTag('answer', 42);
  scope.close();
  t.equal(exporter.getFinishedSpans()[0]!.tags.answer, 42);
});

t.test('manual activation, automatic activation, and finishOnClose', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const span = tracer.startSpan('someWork');
  {
    using scope = tracer.scopeManager.activate(span, true);
    t.equal(tracer.activeSpan(), scope.span);
  }
  {
    using scope = tracer.startActiveSpan('auto', { finishOnClose: true });
    t.equal(tracer.startSpan('inner').parentSpanId, scope.span.context().spanId);
  }
  const notFinished = tracer.startActiveSpan('kept-open', { finishOnClose: false });
  notFinished.close();
  t.same(exporter.getFinishedSpans().map((s) => s.operationName), ['someWork', 'auto']);
  t.equal(notFinished.span.isFinished(), false);
});

t.test('the try/except/finally form records the error and finishes', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const span = tracer.startSpan('someWork');
  const scope = tracer.scopeManager.activate(span, true);
  try {
    throw new Error('failed to do things');
  } catch (e) {
    scope.span.setTag(Tags.ERROR, true);
    scope.span.log({ event: 'error', message: (e as Error).message });
  } finally {
    scope.close();
  }
  const [done] = exporter.getFinishedSpans();
  t.equal(done!.tags.error, true);
  t.equal(done!.logs[0]!.fields.message, 'failed to do things');
  t.equal(tracer.activeSpan(), null);
});

t.test('ignoreActiveSpan starts a new trace although a scope is active', async (t) => {
  const tracer = new Tracer();
  const outer = tracer.startActiveSpan('outer');
  const scope = tracer.startActiveSpan('someWork', { ignoreActiveSpan: true });
  t.equal(scope.span.parentSpanId, '');
  t.not(scope.span.context().traceId, outer.span.context().traceId);
  scope.close();
  outer.close();
});

export type { SpanContext };
