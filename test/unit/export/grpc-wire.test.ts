import t from 'tap';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { GrpcSender } from '../../../src/export/grpc-sender.js';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  encodeRetryInfoDetails,
  formatGrpcTimeout,
  frameMessage,
  grpcCodeFromHttpStatus,
  isRetryableGrpcCode,
  OTLP_GRPC_TRACES_PATH,
  parseGrpcTimeout,
  readMessages,
  readPartialSuccess,
  retryDelayFromStatusDetails,
} from '../../../src/export/grpc-wire.js';

// The sender's connection and timers are unref'd (they never hold a process up): the tests hold it.
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

t.test('grpc-timeout: milliseconds, at most eight digits, read back', async (t) => {
  t.equal(formatGrpcTimeout(10_000), '10000m');
  t.equal(formatGrpcTimeout(0.2), '1m');
  t.equal(formatGrpcTimeout(200_000_000), '200000S');
  t.equal(parseGrpcTimeout('10000m'), 10_000);
  t.equal(parseGrpcTimeout('2S'), 2000);
  t.equal(parseGrpcTimeout('1H'), 3_600_000);
  t.equal(parseGrpcTimeout('123456789m'), null, 'nine digits are not allowed');
  t.equal(parseGrpcTimeout('5x'), null);
  t.equal(parseGrpcTimeout(undefined), null);
});

t.test('retryable codes follow the OTLP specification', async (t) => {
  t.same([1, 4, 10, 11, 14, 15].map((c) => isRetryableGrpcCode(c, false)), [true, true, true, true, true, true]);
  t.same([2, 3, 5, 6, 7, 9, 12, 13, 16].map((c) => isRetryableGrpcCode(c, false)), Array(9).fill(false));
  t.equal(isRetryableGrpcCode(8, false), false, 'RESOURCE_EXHAUSTED alone is final');
  t.equal(isRetryableGrpcCode(8, true), true, 'with RetryInfo it is not');
  t.same([400, 401, 403, 404, 429, 502, 503, 504, 500].map(grpcCodeFromHttpStatus), [13, 16, 7, 12, 14, 14, 14, 14, 2]);
});

t.test('framing, grpc-message escaping, RetryInfo and partial success', async (t) => {
  const two = Buffer.concat([frameMessage(Buffer.from('ab'), false), frameMessage(Buffer.from('c'), true)]);
  t.same(readMessages(two).map((m) => [m.compressed, m.bytes.toString()]), [[false, 'ab'], [true, 'c']]);
  t.throws(() => readMessages(two.subarray(0, 8)), /truncated/);
  t.equal(decodeGrpcMessage(encodeGrpcMessage('100% ünïcode\nline')), '100% ünïcode\nline');
  t.equal(encodeGrpcMessage('a%b'), 'a%25b');
  t.equal(retryDelayFromStatusDetails(encodeRetryInfoDetails(8, 'slow', 1500)), 1500);
  t.equal(retryDelayFromStatusDetails(encodeRetryInfoDetails(8, 'slow', 250)), 250);
  t.equal(retryDelayFromStatusDetails('not base64 protobuf!'), null);
  t.equal(retryDelayFromStatusDetails(undefined), null);
  // ExportTraceServiceResponse{partial_success{rejected_spans: 2, error_message: "x"}}, as protobufjs encodes it.
  t.same(readPartialSuccess(Buffer.from('0a0508021201 78'.replace(/ /g, ''), 'hex')), { spans: 2, message: 'x' });
  t.equal(readPartialSuccess(Buffer.alloc(0)), null);
});

/** A bare node:http2 server, to see the exporter's requests byte for byte and answer in odd ways. */
async function rawServer(answer: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => answer(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const fast = { initialBackoffMs: 5, maxBackoffMs: 20, maxAttempts: 3 };

t.test('the request on the wire: path, content type, te, deadline, user agent, gzip-compressed message', async (t) => {
  let seen: { headers: http2.IncomingHttpHeaders; body: Buffer } | null = null;
  const server = await rawServer((stream, headers, body) => {
    seen = { headers, body };
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frameMessage(Buffer.alloc(0), false));
  });
  t.teardown(server.close);
  const sender = new GrpcSender({ ...fast, url: `${server.url}/ignored/path`, compression: 'gzip', timeoutMs: 1234, headers: { authorization: 'Bearer x', te: 'gzip', ':path': '/evil' } });
  t.teardown(() => sender.shutdown());
  const payload = Buffer.from('the payload '.repeat(20));
  const result = await sender.send(payload);
  t.match(result, { ok: true, attempts: 1, status: 0 });
  const { headers, body } = seen!;
  t.equal(headers[':method'], 'POST');
  t.equal(headers[':path'], OTLP_GRPC_TRACES_PATH);
  t.equal(headers['content-type'], 'application/grpc');
  t.equal(headers.te, 'trailers');
  t.equal(headers['grpc-timeout'], '1234m');
  t.equal(headers['grpc-encoding'], 'gzip');
  t.equal(headers.authorization, 'Bearer x');
  t.match(headers['user-agent'], /^@acme\/tracing-agent\//);
  const [message] = readMessages(body);
  t.equal(message!.compressed, true, 'the compressed flag is set');
  t.same(gunzipSync(message!.bytes), payload);
});

t.test('with headroom before the message, the frame is written in place: same bytes on the wire', async (t) => {
  const bodies: Buffer[] = [];
  const server = await rawServer((stream, _headers, body) => {
    bodies.push(body);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frameMessage(Buffer.alloc(0), false));
  });
  t.teardown(server.close);
  const sender = new GrpcSender({ ...fast, url: server.url });
  t.teardown(() => sender.shutdown());
  const memory = Buffer.alloc(300_008, 0xaa);
  const payload = memory.subarray(8).fill(0x42);
  const result = await sender.send(payload, 8);
  t.match(result, { ok: true, attempts: 1, payloadFree: true });
  t.ok(bodies[0]!.equals(frameMessage(payload, false)), 'the frame the copying path would send');
  t.same([...memory.subarray(0, 3)], [0xaa, 0xaa, 0xaa], 'only the five bytes before the message were written');
  const plain = Buffer.from('no headroom');
  t.match(await sender.send(plain), { ok: true, payloadFree: true });
  t.ok(bodies[1]!.equals(frameMessage(plain, false)));
});

t.test('answers without a gRPC status, trailers-only errors, and a server that is not gRPC', async (t) => {
  let mode = 'http503';
  let calls = 0;
  const server = await rawServer((stream) => {
    calls++;
    if (mode === 'http503') {
      stream.respond({ ':status': 503 });
      stream.end('busy');
    } else if (mode === 'trailers-only') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': encodeGrpcMessage('bad span: ü') }, { endStream: true });
    } else {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    }
  });
  t.teardown(server.close);
  const sender = new GrpcSender({ ...fast, url: server.url, headers: { authorization: 'Bearer s3cret' } });
  t.teardown(() => sender.shutdown());
  const busy = await sender.send(Buffer.from('x'));
  t.match(busy, { ok: false, attempts: 3, status: 14 });
  t.equal(calls, 3, 'HTTP 503 means UNAVAILABLE: retried');
  mode = 'trailers-only';
  calls = 0;
  const invalid = await sender.send(Buffer.from('x'));
  t.match(invalid, { ok: false, attempts: 1, status: 3, reason: 'gRPC INVALID_ARGUMENT: bad span: ü' });
  mode = 'refused-stream';
  calls = 0;
  const refused = await sender.send(Buffer.from('x'));
  t.match(refused, { ok: false, attempts: 3, status: 14 });
  for (const r of [busy, invalid, refused]) t.notMatch(r.reason, /s3cret/);
});

t.test('an OTLP/HTTP (HTTP/1.1) port by mistake: UNAVAILABLE with a hint, never a crash', async (t) => {
  const http = await import('node:http');
  const server = http.createServer((_req, res) => res.end('not grpc'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const sender = new GrpcSender({ ...fast, maxAttempts: 1, timeoutMs: 2000, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  t.teardown(() => sender.shutdown());
  const r = await sender.send(Buffer.from('x'));
  t.equal(r.ok, false);
  t.ok([13, 14, 4].includes(r.status), `status ${r.status}: ${r.reason}`);
});
