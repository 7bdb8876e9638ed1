// Manual instrumentation, following the OpenTracing guide: an inbound request continues the
// caller's trace, does some work in an active span, and makes an outbound call that carries it on.
import { globalTracer, FORMAT_HTTP_HEADERS, Tags } from '@acme/tracing-agent';

const tracer = globalTracer();

async function handleRequest(request) {
  const parent = tracer.extract(FORMAT_HTTP_HEADERS, request.headers);
  return tracer.startActiveSpan(request.operation, { childOf: parent, tags: { [Tags.SPAN_KIND]: 'server', [Tags.HTTP_URL]: request.url } }, async (span) => {
    span.setBaggageItem('customer', 'acme');
    await tracer.startActiveSpan('load-order', {}, async () => new Promise((r) => setTimeout(r, 20)));
    const outgoing = {};
    await tracer.startActiveSpan('GET /stock', { tags: { [Tags.SPAN_KIND]: 'client', [Tags.PEER_SERVICE]: 'stock' } }, async (client) => {
      tracer.inject(client, FORMAT_HTTP_HEADERS, outgoing);
      await new Promise((r) => setTimeout(r, 10));
    });
    return outgoing;
  });
}

const sent = await handleRequest({
  operation: 'GET /orders/:id',
  url: 'http://orders.local/orders/42',
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
});
console.log('headers sent downstream:', sent);
