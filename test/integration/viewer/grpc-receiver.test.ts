import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startViewer, type Viewer } from '../../../src/viewer/viewer.js';
import { OTLP_GRPC_TRACES_PATH } from '../../../src/export/grpc-wire.js';
import { decodeOfficialResponse, encodeOfficial, id } from '../../unit/viewer/official-otlp.js';
import { REGISTER, runNode } from '../../helpers/run-node.js';
import { getJson } from './viewer-client.js';

async function viewer(t: Test, opts: Parameters<typeof startViewer>[0] = {}): Promise<Viewer & { otlpGrpcUrl: string }> {
  const v = await startViewer({ port: 0, otlpPort: 0, otlpGrpcPort: 0, warn: () => {}, ...opts });
  t.teardown(() => v.close());
  return v as Viewer & { otlpGrpcUrl: string };
}

for (const compression of ['none', 'gzip'] as const) {
  t.test(`OpenTelemetry's own OTLP/gRPC exporter (compression ${compression}) is received: spans, parents, attributes`, async (t) => {
    const v = await viewer(t);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { TracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace');
    const exporter = new OTLPTraceExporter({ url: v.otlpGrpcUrl, compression });
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('grpc-receiver-test');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { trace, context } = require('@opentelemetry/api');
    const root = tracer.startSpan('GET /orders', { kind: 1, attributes: { 'http.route': '/orders', big: 'x'.repeat(2000) } });
    const child = tracer.startSpan('SELECT orders', { kind: 2, attributes: { 'db.system': 'postgresql', rows: 3 } }, trace.setSpan(context.active(), root));
    child.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = root.spanContext().traceId;
    const got = await getJson(`${v.webUrl}/api/traces/${traceId}`);
    const names = got.spans.map((s: { name: string }) => s.name).sort();
    t.same(names, ['GET /orders', 'SELECT orders']);
    const db = got.spans.find((s: { name: string }) => s.name === 'SELECT orders');
    t.equal(db.parentSpanId, root.spanContext().spanId, 'the parent link survived');
    t.match(JSON.stringify(db), /postgresql/);
    t.equal(v.store.stats().rejectedRequests, 0);
  });
}

t.test('our own exporter with TRACING_EXPORTER_PROTOCOL=grpc reaches the viewer from an app under the agent', async (t) => {
  const v = await viewer(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-grpc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, 'app.cjs');
  fs.writeFileSync(app, `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/shop' }, (res) => res.resume().on('end', () => server.close()));
});`);
  const r = await runNode(['--import', REGISTER, app], { env: { TRACING_EXPORTER_PROTOCOL: 'grpc', TRACING_ENDPOINT: v.otlpGrpcUrl, TRACING_SERVICE_NAME: 'shop', TRACING_EXPORTER_COMPRESSION: 'gzip' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const list = await getJson(`${v.webUrl}/api/traces`);
  t.equal(list.traces.length, 1);
  t.equal(list.traces[0].spanCount, 2, 'server and client span of one trace');
});

/** A generic grpc-js client calling `path` with raw bytes, so the test can send what it likes. */
function rawCall(url: string, method: string, body: Buffer): Promise<{ code: number; details: string; response: Buffer | null }> {
  const address = url.replace(/^http:\/\//, '');
  const Client = grpc.makeGenericClientConstructor({
    Call: { path: method, requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b },
  }, 'Raw');
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as { Call: (b: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void; close(): void };
  return new Promise((resolve) => {
    client.Call(body, (err, response) => {
      client.close();
      resolve(err === null ? { code: 0, details: '', response: response ?? null } : { code: err.code, details: err.details, response: null });
    });
  });
}

t.test('answers a gRPC client understands: partial success, INVALID_ARGUMENT, UNIMPLEMENTED, RESOURCE_EXHAUSTED', async (t) => {
  const refusals: string[] = [];
  const v = await viewer(t, { maxBodyBytes: 4096, warn: (m) => refusals.push(m) });
  const good = { traceId: id('4bf92f3577b34da6a3ce929d0e0e4736'), spanId: id('00f067aa0ba902b7'), name: 'ok', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000' };
  const bad = { ...good, spanId: Buffer.alloc(0), name: 'no span id' };
  const request = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [good, bad] }] }] };
  const partial = await rawCall(v.otlpGrpcUrl, OTLP_GRPC_TRACES_PATH, encodeOfficial(request));
  t.equal(partial.code, 0);
  const answer = decodeOfficialResponse(partial.response!);
  t.equal(answer.partialSuccess?.rejectedSpans, '1');
  t.match(answer.partialSuccess?.errorMessage, /1 span\(s\) rejected/);
  t.equal(v.store.stats().spans, 1);

  const garbage = await rawCall(v.otlpGrpcUrl, OTLP_GRPC_TRACES_PATH, Buffer.from([0xff, 0xff, 0xff]));
  t.equal(garbage.code, grpc.status.INVALID_ARGUMENT);
  t.match(garbage.details, /malformed protobuf ExportTraceServiceRequest/);

  const other = await rawCall(v.otlpGrpcUrl, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', Buffer.alloc(0));
  t.equal(other.code, grpc.status.UNIMPLEMENTED);

  const large = await rawCall(v.otlpGrpcUrl, OTLP_GRPC_TRACES_PATH, Buffer.alloc(10_000));
  t.equal(large.code, grpc.status.RESOURCE_EXHAUSTED);
  t.ok(refusals.some((m) => /gRPC INVALID_ARGUMENT/.test(m)), 'refusals are reported to the user');
});

t.test('not gRPC, or not even HTTP/2: a plain answer or a closed session, and the viewer keeps receiving', async (t) => {
  const v = await viewer(t);
  const session = http2.connect(v.otlpGrpcUrl);
  t.teardown(() => session.close());
  const status = await new Promise<number>((resolve, reject) => {
    const req = session.request({ ':path': '/', ':method': 'GET' });
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 415);
  const net = await import('node:net');
  const port = Number(new URL(v.otlpGrpcUrl).port);
  await new Promise<void>((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    sock.resume();
  });
  const after = await rawCall(v.otlpGrpcUrl, OTLP_GRPC_TRACES_PATH, encodeOfficial({ resourceSpans: [] }));
  t.equal(after.code, 0, 'still serving');
});
