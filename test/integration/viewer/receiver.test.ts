import * as net from 'node:net';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { startViewer, type Viewer } from '../../../src/viewer/viewer.js';
import { decodeOfficialResponse, encodeOfficial, id } from '../../unit/viewer/official-otlp.js';
import { getJson, postOtlp, request } from './viewer-client.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function request1(spanIds: string[], traceId = TRACE): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'py-svc' } }] },
        scopeSpans: [{ scope: { name: 'opentelemetry.instrumentation.flask' }, spans: spanIds.map((s, i) => ({ traceId: id(traceId), spanId: id(s), name: `op${i}`, kind: 2, startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n), endTimeUnixNano: String(1_700_000_000_010_000_000n) })) }],
      },
    ],
  };
}

function jsonRequest(spans: object[]): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'java-svc' } }] }, scopeSpans: [{ scope: { name: 'io.opentelemetry' }, spans }] }] });
}

async function viewer(t: Test, opts: Parameters<typeof startViewer>[0] = {}): Promise<Viewer> {
  const v = await startViewer({ port: 0, otlpPort: 0, warn: () => {}, ...opts });
  t.teardown(() => v.close());
  return v;
}

t.test('protobuf from the official encoder: 200 with an empty ExportTraceServiceResponse, spans listed', async (t) => {
  const v = await viewer(t);
  const r = await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7', '00f067aa0ba902b8'])), 'application/x-protobuf');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'application/x-protobuf');
  t.same(decodeOfficialResponse(r.body), {}, 'no partialSuccess when everything was accepted');
  const list = await getJson(`${v.webUrl}/api/traces`);
  t.equal(list.traces.length, 1);
  t.equal(list.traces[0].traceId, TRACE);
  t.equal(list.traces[0].spanCount, 2);
  t.same(list.services, ['py-svc']);
});

t.test('gzip bodies (protobuf and JSON) are accepted', async (t) => {
  const v = await viewer(t);
  const pb = await postOtlp(v.otlpUrl, gzipSync(encodeOfficial(request1(['00f067aa0ba902b7']))), 'application/x-protobuf', { 'content-encoding': 'gzip' });
  t.equal(pb.status, 200);
  const js = await postOtlp(v.otlpUrl, gzipSync(jsonRequest([{ traceId: TRACE.toUpperCase(), spanId: '00F067AA0BA902B9', parentSpanId: '00f067aa0ba902b7', name: 'child', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: 1_700_000_000_001_000_000, endTimeUnixNano: '1700000000002000000' }])), 'application/json; charset=utf-8', { 'content-encoding': 'gzip' });
  t.equal(js.status, 200);
  t.same(JSON.parse(js.body.toString()), {});
  const trace = await getJson(`${v.webUrl}/api/traces/${TRACE}`);
  t.same(trace.spans.map((s: any) => [s.name, s.service, s.kind, s.spanId]), [
    ['op0', 'py-svc', 'server', '00f067aa0ba902b7'],
    ['child', 'java-svc', 'client', '00f067aa0ba902b9'],
  ]);
});

t.test('invalid spans are rejected with partialSuccess; the valid ones are kept', async (t) => {
  const v = await viewer(t);
  const js = await postOtlp(v.otlpUrl, jsonRequest([
    { traceId: TRACE, spanId: '1111111111111111', name: 'ok' },
    { traceId: '00000000000000000000000000000000', spanId: '2222222222222222', name: 'zero trace' },
    { traceId: TRACE, spanId: 'abc', name: 'short span id' },
  ]), 'application/json');
  t.equal(js.status, 200);
  const body = JSON.parse(js.body.toString());
  t.equal(body.partialSuccess.rejectedSpans, '2');
  t.match(body.partialSuccess.errorMessage, /2 span\(s\) rejected; first: invalid traceId/);
  const req = request1(['3333333333333333']) as any;
  req.resourceSpans[0].scopeSpans[0].spans.push({ traceId: id(TRACE), spanId: Buffer.alloc(3), name: 'bad' });
  const pb = await postOtlp(v.otlpUrl, encodeOfficial(req), 'application/x-protobuf');
  t.equal(pb.status, 200);
  const decoded = decodeOfficialResponse(pb.body);
  t.equal(decoded.partialSuccess?.rejectedSpans, '1', 'official decoder reads our partialSuccess');
  t.match(decoded.partialSuccess?.errorMessage, /invalid spanId/);
  t.equal(v.store.stats().spans, 2);
});

t.test('duplicates (same span id, another request) are ignored', async (t) => {
  const v = await viewer(t);
  const body = encodeOfficial(request1(['00f067aa0ba902b7']));
  await postOtlp(v.otlpUrl, body, 'application/x-protobuf');
  const again = await postOtlp(v.otlpUrl, body, 'application/x-protobuf');
  t.equal(again.status, 200);
  t.equal(v.store.stats().spans, 1);
});

t.test('malformed bodies get 400 with a Status body, counted, reported, and the receiver keeps working', async (t) => {
  const warnings: string[] = [];
  const v = await viewer(t, { warn: (m) => warnings.push(m) });
  const badPb = await postOtlp(v.otlpUrl, Buffer.from([0x0a, 0xff, 0xff, 0x01]), 'application/x-protobuf');
  t.equal(badPb.status, 400);
  t.equal(badPb.headers['content-type'], 'application/x-protobuf');
  t.ok(badPb.body.toString('latin1').includes('malformed protobuf'), 'google.rpc.Status message field');
  const badJson = await postOtlp(v.otlpUrl, '{"resourceSpans": [', 'application/json');
  t.equal(badJson.status, 400);
  t.match(JSON.parse(badJson.body.toString()), { code: 3, message: /invalid JSON/ });
  const wrongShape = await postOtlp(v.otlpUrl, '{"resourceSpans": 5}', 'application/json');
  t.equal(wrongShape.status, 400);
  const badGzip = await postOtlp(v.otlpUrl, Buffer.from('not gzip'), 'application/json', { 'content-encoding': 'gzip' });
  t.equal(badGzip.status, 400);
  t.match(JSON.parse(badGzip.body.toString()).message, /not valid gzip/);
  t.equal(v.store.stats().rejectedRequests, 4);
  t.equal(warnings.length, 3, 'the first three refusals are reported, then at most one a minute');
  t.match(warnings[0], /^refused an OTLP request \(400\): malformed protobuf ExportTraceServiceRequest/);
  const ok = await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7'])), 'application/x-protobuf');
  t.equal(ok.status, 200, 'still receiving after the bad ones');
});

t.test('over the size limit: 413, also after gunzip (a zip bomb stops at the limit)', async (t) => {
  const v = await viewer(t, { maxBodyBytes: 64 * 1024 });
  const big = await postOtlp(v.otlpUrl, Buffer.alloc(200 * 1024, 0x20), 'application/json');
  t.equal(big.status, 413);
  t.match(JSON.parse(big.body.toString()).message, /over the limit of 65536 bytes/);
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
  t.ok(bomb.length < 64 * 1024, `the bomb is small on the wire (${bomb.length} bytes)`);
  const r = await postOtlp(v.otlpUrl, bomb, 'application/json', { 'content-encoding': 'gzip' });
  t.equal(r.status, 413);
  t.match(JSON.parse(r.body.toString()).message, /once decompressed/);
  // Chunked (no Content-Length): the limit is enforced while reading.
  const chunked = await request(v.otlpUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'transfer-encoding': 'chunked' }, body: Buffer.alloc(100 * 1024) });
  t.equal(chunked.status, 413);
  const ok = await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7'])), 'application/x-protobuf');
  t.equal(ok.status, 200, 'still receiving');
});

t.test('other content types 415, other paths 404, other methods 405', async (t) => {
  const v = await viewer(t);
  t.equal((await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7'])), 'application/protobuf')).status, 200, 'application/protobuf is the same bytes');
  const text = await postOtlp(v.otlpUrl, 'hello', 'text/plain');
  t.equal(text.status, 415);
  t.match(JSON.parse(text.body.toString()).message, /application\/x-protobuf or application\/json/);
  const br = await postOtlp(v.otlpUrl, '{}', 'application/json', { 'content-encoding': 'br' });
  t.equal(br.status, 415);
  const base = v.otlpUrl.replace('/v1/traces', '');
  t.equal((await postOtlp(`${base}/v1/metrics`, '{}', 'application/json')).status, 404);
  const get = await request(v.otlpUrl);
  t.equal(get.status, 405);
  t.equal(get.headers.allow, 'POST');
  const preflight = await request(v.otlpUrl, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  t.equal(preflight.status, 405, 'no CORS preflight: a web page cannot post JSON or protobuf here');
  t.equal(preflight.headers['access-control-allow-origin'], undefined);
  t.equal((await postOtlp(v.otlpUrl, '{}', 'application/json')).status, 200, 'an empty request is fine');
});

t.test('a sender that goes away mid-body or sends a torn gzip stream does not disturb the receiver', async (t) => {
  const v = await viewer(t);
  const url = new URL(v.otlpUrl);
  await new Promise<void>((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`POST /v1/traces HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\n`);
      socket.write(Buffer.alloc(1000, 0x0a));
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 50);
    });
  });
  const torn = gzipSync(Buffer.from(JSON.stringify({ resourceSpans: [] }))).subarray(0, 10);
  t.equal((await postOtlp(v.otlpUrl, torn, 'application/json', { 'content-encoding': 'gzip' })).status, 400);
  const ok = await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7'])), 'application/x-protobuf');
  t.equal(ok.status, 200);
  t.equal(v.store.stats().spans, 1);
});

t.test('many large bodies at once: past the in-flight budget a request gets 503 + Retry-After, and the budget frees up', async (t) => {
  const v = await viewer(t, { maxBodyBytes: 1024 * 1024, maxInFlightBytes: 100 * 1024 });
  const url = new URL(v.otlpUrl);
  // A sender that is slow to finish its body holds 80 KiB of the budget.
  const slow = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((r) => slow.once('connect', () => r()));
  slow.write(`POST /v1/traces HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${90 * 1024}\r\n\r\n`);
  slow.write(Buffer.alloc(80 * 1024));
  await new Promise((r) => setTimeout(r, 100));
  const busy = await postOtlp(v.otlpUrl, Buffer.alloc(40 * 1024, 0x0a), 'application/x-protobuf');
  t.equal(busy.status, 503);
  t.equal(busy.headers['retry-after'], '1');
  slow.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const ok = await postOtlp(v.otlpUrl, encodeOfficial(request1(['00f067aa0ba902b7'])), 'application/x-protobuf');
  t.equal(ok.status, 200, 'the aborted request gave its bytes back');
  for (let i = 0; i < 5; i++) t.equal((await postOtlp(v.otlpUrl, Buffer.concat([encodeOfficial(request1(['00f067aa0ba902b8'])), Buffer.alloc(60 * 1024)]), 'application/x-protobuf')).status, 400, 'finished requests give theirs back too');
});
