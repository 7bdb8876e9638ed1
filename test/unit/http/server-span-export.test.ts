import t from 'tap';
import http = require('node:http');
import type { AddressInfo } from 'node:net';
import { instrument, memoryTracer } from '../../helpers/instrumentation-context.js';
import { officialRequestCodec } from '../../helpers/collector.js';
import { suppressTracing } from '../../../src/util/suppress.js';
import { getServerSpan } from '../../../instrumentations/http/server.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { OtlpBatchEncoder, OtlpProtobufEncoder, encodeEnvelope } from '../../../src/export/otlp-protobuf.js';
import { buildResource } from '../../../src/export/resource.js';
import type { Span } from '../../../src/api/span.js';

// A plain server span keeps what its tags are made from as one array until something sets or reads its tags or
// the encoder writes it (PresetTags): the OTLP payload must name the same attributes, in the same order, with
// the same values, as a span whose tags were written into a store at its start and end: whether the app set tags
// after the start, overwrote one of the start's, read them, or answered with an error.

const { tracer, exporter } = memoryTracer();
instrument('http', tracer).patch(http);

const handlers: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  '/plain': (_req, res) => res.end('ok'),
  '/user-tags': (req, res) => {
    const span = getServerSpan(req)!;
    span.setTag('user.id', 7);
    // A start tag overwritten: it keeps its place.
    span.setTag('http.method', 'PATCH');
    span.addTags({ 'app.tier': 'gold' });
    res.end('ok');
  },
  '/read': (req, res) => {
    res.setHeader('x-component', String(getServerSpan(req)!.tags.component));
    res.end('ok');
  },
  '/fail': (_req, res) => {
    res.statusCode = 503;
    res.end('down');
  },
};

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; localPort: number }> {
  return suppressTracing(() => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode!, headers: res.headers, localPort }));
    });
    let localPort = 0;
    req.on('socket', (s) => s.on('connect', () => (localPort = s.localPort!)));
    req.on('error', reject);
  }));
}

type Attr = [string, unknown];

/** The attributes and status of each span of a payload, as the official definitions decode them. */
function decode(bytes: Buffer): { name: string; kind: number; attributes: Attr[]; status: number }[] {
  const codec = officialRequestCodec();
  const req = codec.toObject(codec.decode(bytes), { longs: String, enums: Number, defaults: true }) as {
    resourceSpans: { scopeSpans: { spans: { name: string; kind: number; attributes: { key: string; value: Record<string, unknown> }[]; status?: { code: number } }[] }[] }[];
  };
  return req.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => ({
    name: s.name,
    kind: s.kind,
    attributes: s.attributes.map((a) => [a.key, a.value.stringValue !== '' && a.value.stringValue !== undefined ? a.value.stringValue : Number(a.value.intValue)]),
    status: s.status?.code ?? 0,
  }));
}

t.test('a server span\'s attributes come out in the order and with the values of a span tagged in a store', async (t) => {
  const server = http.createServer((req, res) => handlers[req.url!]!(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const calls = [
    await get(port, '/plain'),
    await get(port, '/plain', { 'x-service-name': 'billing' }),
    await get(port, '/user-tags'),
    await get(port, '/read'),
    await get(port, '/fail'),
  ];
  t.equal(calls[3]!.headers['x-component'], 'http', 'a read in the handler sees the start\'s tags');
  for (let deadline = Date.now() + 2000; exporter.getFinishedSpans().length < calls.length && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
  const spans = [...exporter.getFinishedSpans()] as Span[];
  t.equal(spans.length, calls.length);
  // Otherwise this test would compare a store's encoding with itself.
  t.ok(Array.isArray(spans[0]!._tags) && Array.isArray(spans[1]!._tags) && Array.isArray(spans[4]!._tags), 'plain and failed spans are exported from their preset tags');
  t.notOk(Array.isArray(spans[2]!._tags), 'tags set in the handler made the store');

  const resource = buildResource({ 'service.name': 'shop' });
  const encoder = new OtlpBatchEncoder(encodeEnvelope(resource), false);
  for (const s of spans) encoder.append(s);
  const bytes = encoder.seal().bytes;
  const peer = (i: number): Attr[] => [['peer.ipv4', '127.0.0.1'], ['peer.port', calls[i]!.localPort]];
  const start = (i: number, path: string, method = 'GET'): Attr[] => [['component', 'http'], ['http.method', method], ['http.url', url(path)], ...peer(i)];
  t.same(decode(bytes), [
    { name: 'GET', kind: 2, attributes: [...start(0, '/plain'), ['http.status_code', 200]], status: 0 },
    { name: 'GET', kind: 2, attributes: [...start(1, '/plain'), ['peer.service', 'billing'], ['http.status_code', 200]], status: 0 },
    { name: 'GET', kind: 2, attributes: [...start(2, '/user-tags', 'PATCH'), ['user.id', 7], ['app.tier', 'gold'], ['http.status_code', 200]], status: 0 },
    { name: 'GET', kind: 2, attributes: [...start(3, '/read'), ['http.status_code', 200]], status: 0 },
    { name: 'GET', kind: 2, attributes: [...start(4, '/fail'), ['http.status_code', 503]], status: 2 },
  ]);
  // The general encoder reads `tags`, which makes each span's store from its preset tags: the same bytes.
  t.ok(bytes.equals(new OtlpProtobufEncoder().encode(spans.map((s) => mapSpan(s, { exportBaggage: false })), resource)), 'identical bytes');
  t.same(Object.entries(spans[4]!.tags), [['span.kind', 'server'], ...start(4, '/fail'), ['http.status_code', 503], ['error', true]], 'the store keeps the start\'s order, the result last');
});
