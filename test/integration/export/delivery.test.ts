import t from 'tap';
import { Tracer, Tags, recordError, followsFrom, FORMAT_HTTP_HEADERS, type Span } from '../../../src/index.js';
import { createSpanProcessor } from '../../../src/export/pipeline.js';
import { defaultConfig } from '../../../src/config/load.js';
import { SDK_NAME } from '../../../src/export/resource.js';
import type { ExportConfig } from '../../../src/config/types.js';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';

const RESOURCE = { 'service.name': 'checkout', 'service.version': '2.0.1', 'deployment.environment': 'test', team: 'payments' };

function exportConfig(patch: Partial<ExportConfig>): ExportConfig {
  const cfg = defaultConfig().export;
  return { ...cfg, ...patch, batch: { ...cfg.batch, scheduledDelayMs: 20 } };
}

/** A small but complete trace: remote parent, server, client with error, producer, follows_from. */
function runTrace(tracer: Tracer): Span[] {
  const incoming = tracer.extract(FORMAT_HTTP_HEADERS, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
  const server = tracer.startSpan('POST /orders', { childOf: incoming, tags: { [Tags.SPAN_KIND]: 'server', 'http.method': 'POST', 'http.status_code': 201 } });
  const client = tracer.startSpan('GET inventory', { childOf: server, tags: { [Tags.SPAN_KIND]: 'client', 'peer.service': 'inventory', 'peer.port': 8080 } });
  recordError(client, new Error('inventory timeout'));
  client.finish();
  const producer = tracer.startSpan('publish order', { childOf: server, tags: { [Tags.SPAN_KIND]: 'producer' } });
  producer.finish();
  const later = tracer.startSpan('send email', { references: [followsFrom(producer)], tags: { [Tags.SPAN_KIND]: 'consumer' } });
  later.log({ event: 'queued', attempt: 1 });
  later.finish();
  server.finish();
  return [client, producer, later, server];
}

function byName(spans: readonly ReceivedSpan[]): Record<string, ReceivedSpan> {
  return Object.fromEntries(spans.map((s) => [s.name, s]));
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  t.test(`OTLP ${protocol}: every span arrives once with parent, kind, status, attributes and resource`, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const processor = createSpanProcessor(exportConfig({ exporters: ['otlp'], endpoint: collector.otlpUrl, protocol, headers: { 'x-api-key': 'k1' } }), RESOURCE);
    const tracer = new Tracer({ processor, resource: RESOURCE });
    const [client, producer, later, server] = runTrace(tracer);
    await collector.waitForSpans(4);
    await tracer.close();
    t.same(collector.decodeErrors, []);
    t.equal(collector.spans.length, 4, 'exactly once');
    t.ok(collector.spans.every((s) => s.protocol === (protocol === 'http/json' ? 'otlp-json' : 'otlp-protobuf')));
    t.equal(collector.requests[0]!.headers['x-api-key'], 'k1');
    const got = byName(collector.spans);
    const srv = got['POST /orders']!;
    t.equal(srv.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    t.equal(srv.parentSpanId, '00f067aa0ba902b7', 'the remote caller is the parent');
    t.equal(srv.spanId, server!.context().spanId);
    t.equal(srv.kind, 2);
    t.same(srv.attributes, { 'http.method': 'POST', 'http.status_code': 201 });
    t.same(srv.status, { code: 0, message: '' });
    const cli = got['GET inventory']!;
    t.equal(cli.parentSpanId, srv.spanId);
    t.equal(cli.spanId, client!.context().spanId);
    t.equal(cli.kind, 3);
    t.same(cli.status, { code: 2, message: 'inventory timeout' });
    t.equal(cli.events[0]!.name, 'exception');
    t.equal(cli.events[0]!.attributes['exception.message'], 'inventory timeout');
    t.equal(got['publish order']!.kind, 4);
    const consumer = got['send email']!;
    t.equal(consumer.kind, 5);
    t.equal(consumer.parentSpanId, producer!.context().spanId, 'follows_from alone is the parent');
    // The tracer keeps the follows_from reference even when it stands in as the parent, so the
    // kind of relationship survives as a link.
    t.same(consumer.links.map((l) => [l.spanId, l.attributes['opentracing.ref_type']]), [[producer!.context().spanId, 'follows_from']]);
    t.same(consumer.events.map((e) => [e.name, e.attributes]), [['queued', { attempt: 1 }]]);
    t.equal(later!.context().traceId, srv.traceId);
    t.match(srv.resource, {
      'service.name': 'checkout', 'service.version': '2.0.1', 'deployment.environment': 'test', team: 'payments',
      'telemetry.sdk.name': SDK_NAME, 'telemetry.sdk.language': 'nodejs', 'process.pid': process.pid,
    });
    t.equal(srv.scope.name, SDK_NAME);
    t.ok(BigInt(srv.endTimeUnixNano) >= BigInt(srv.startTimeUnixNano));
  });
}

t.test('OTLP with gzip arrives intact', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const tracer = new Tracer({ processor: createSpanProcessor(exportConfig({ endpoint: collector.otlpUrl, compression: 'gzip' }), RESOURCE) });
  runTrace(tracer);
  await tracer.close();
  t.equal(collector.requests[0]!.contentEncoding, 'gzip');
  t.equal(collector.spans.length, 4);
});

t.test('Zipkin v2: every span arrives once, with parent, kind, error tag and service', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const tracer = new Tracer({ processor: createSpanProcessor(exportConfig({ exporters: ['zipkin'], zipkinEndpoint: collector.zipkinUrl }), RESOURCE) });
  const [client, , , server] = runTrace(tracer);
  await collector.waitForZipkinSpans(4);
  await tracer.close();
  t.equal(collector.zipkinSpans.length, 4);
  const got = Object.fromEntries(collector.zipkinSpans.map((s) => [s.name, s]));
  const srv = got['POST /orders']!;
  t.match(srv, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: server!.context().spanId, parentId: '00f067aa0ba902b7', kind: 'SERVER', localEndpoint: { serviceName: 'checkout' } });
  t.same(srv.tags, { 'http.method': 'POST', 'http.status_code': '201' });
  const cli = got['GET inventory']!;
  t.match(cli, { id: client!.context().spanId, parentId: srv.id, kind: 'CLIENT', remoteEndpoint: { serviceName: 'inventory', port: 8080 } });
  t.equal(cli.tags!.error, 'inventory timeout');
  t.equal(got['send email']!.kind, 'CONSUMER');
  t.equal(got['publish order']!.kind, 'PRODUCER');
  t.ok(Number.isInteger(srv.timestamp) && srv.duration >= 1, 'microsecond integers');
});

t.test('two exporters at once each get every span exactly once', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const tracer = new Tracer({ processor: createSpanProcessor(exportConfig({ exporters: ['otlp', 'zipkin'], endpoint: collector.otlpUrl, zipkinEndpoint: collector.zipkinUrl }), RESOURCE) });
  for (let i = 0; i < 5; i++) runTrace(tracer);
  await tracer.close();
  t.equal(new Set(collector.spans.map((s) => s.spanId)).size, 20);
  t.equal(collector.spans.length, 20);
  t.equal(collector.zipkinSpans.length, 20);
});
