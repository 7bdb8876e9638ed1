// The OTLP/gRPC trace receiver: `TraceService/Export` over plaintext HTTP/2 (what the OpenTelemetry
// Operator's default `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` and `TRACING_EXPORTER_PROTOCOL=grpc` send to port
// 4317), answered as a gRPC server would: an ExportTraceServiceResponse (with partial_success when spans
// were invalid) and grpc-status 0, or a trailers-only error — INVALID_ARGUMENT for a message that cannot
// be decoded, RESOURCE_EXHAUSTED over the size limit (checked again after gunzip), UNIMPLEMENTED for
// another method or compression. Decoding and storing are the OTLP/HTTP receiver's own (`receive`).
import type * as http2 from 'node:http2';
import { gunzip } from 'node:zlib';
import { encodeGrpcMessage, frameMessage, GrpcCode, grpcCodeName, OTLP_GRPC_TRACES_PATH, readMessages } from '../export/grpc-wire.js';
import { ProtoWriter } from '../export/protobuf-writer.js';
import { describeError } from '../util/log.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT_BYTES, receive, type ReceiveResult, type ReceiverOptions } from './receiver.js';

/** Returns the `stream` handler of the OTLP/gRPC port. */
export function createOtlpGrpcHandler(options: ReceiverOptions): (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  let inFlight = 0;
  return (stream, headers) => {
    // A client that resets its stream must not take the viewer down.
    stream.on('error', () => {});
    const path = String(headers[':path'] ?? '');
    const contentType = String(headers['content-type'] ?? '');
    if (headers[':method'] !== 'POST' || !/^application\/grpc(\+proto)?(;|$)/.test(contentType)) {
      // Not gRPC at all (a browser, curl): a plain HTTP answer says what this port is.
      if (!stream.headersSent) stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end(`this port receives OTLP over gRPC (POST ${OTLP_GRPC_TRACES_PATH}, content-type application/grpc)\n`);
      return;
    }
    if (path !== OTLP_GRPC_TRACES_PATH) return refuse(stream, options, GrpcCode.UNIMPLEMENTED, `unknown method ${path}: this port serves ${OTLP_GRPC_TRACES_PATH.slice(1)}`, false);
    const encoding = String(headers['grpc-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') return refuse(stream, options, GrpcCode.UNIMPLEMENTED, `unsupported grpc-encoding "${encoding}": send gzip or identity`, false);

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let held = 0;
    const release = (): void => {
      inFlight -= held;
      held = 0;
    };
    stream.on('close', release);
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      // The limit is on the message; its 5-byte prefix does not count against it.
      if (size > maxBodyBytes + 5) {
        refused = true;
        chunks.length = 0;
        release();
        refuse(stream, options, GrpcCode.RESOURCE_EXHAUSTED, `message is over the limit of ${maxBodyBytes} bytes`, true);
        return;
      }
      if (inFlight + chunk.length > maxInFlightBytes) {
        refused = true;
        chunks.length = 0;
        release();
        // UNAVAILABLE is what OTLP senders retry; RESOURCE_EXHAUSTED without RetryInfo they would not.
        refuse(stream, options, GrpcCode.UNAVAILABLE, 'too many large requests at once; retry shortly', true);
        return;
      }
      inFlight += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      let message: { compressed: boolean; bytes: Buffer };
      try {
        const messages = readMessages(body);
        if (messages.length !== 1) throw new Error(`a unary call carries one message, this one ${messages.length}`);
        message = messages[0]!;
      } catch (err) {
        release();
        return refuse(stream, options, GrpcCode.INVALID_ARGUMENT, `malformed gRPC body: ${(err as Error).message}`, false);
      }
      if (!message.compressed) {
        release();
        return settle(stream, options, () => receive(message.bytes, 'protobuf', options));
      }
      if (encoding !== 'gzip') {
        release();
        return refuse(stream, options, GrpcCode.INTERNAL, 'a compressed message without grpc-encoding', false);
      }
      gunzip(message.bytes, { maxOutputLength: maxBodyBytes }, (err, bytes) => {
        release();
        if (err === null) return settle(stream, options, () => receive(bytes, 'protobuf', options));
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') refuse(stream, options, GrpcCode.RESOURCE_EXHAUSTED, `message is over the limit of ${maxBodyBytes} bytes once decompressed`, false);
        else refuse(stream, options, GrpcCode.INTERNAL, `message is not valid gzip: ${err.message}`, false);
      });
    });
  };
}

/** Answers with what `work` concluded; a bug of ours becomes INTERNAL for this call, never a crashed viewer. */
function settle(stream: http2.ServerHttp2Stream, options: ReceiverOptions, work: () => ReceiveResult): void {
  let result: ReceiveResult;
  try {
    result = work();
  } catch (err) {
    return refuse(stream, options, GrpcCode.INTERNAL, `internal error in the viewer: ${describeError(err)}`, false);
  }
  if (result.status !== 200) return refuse(stream, options, GrpcCode.INVALID_ARGUMENT, result.message, false);
  const w = new ProtoWriter(256);
  if (result.rejected > 0) {
    // ExportTraceServiceResponse.partial_success (1) { rejected_spans (1), error_message (2) }
    const m = w.begin(1);
    w.int64(1, result.rejected);
    w.string(2, result.message);
    w.end(m);
  }
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity,gzip' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frameMessage(w.finish(), false));
}

/** A trailers-only gRPC error; counted in the stats and reported. */
function refuse(stream: http2.ServerHttp2Stream, options: ReceiverOptions, code: number, message: string, closeEarly: boolean): void {
  options.store.countRejectedRequest();
  options.onRefused?.(`gRPC ${grpcCodeName(code)}`, message);
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message), 'grpc-accept-encoding': 'identity,gzip' },
    { endStream: true },
  );
  // The rest of a refused body is not read: the stream is closed once the answer is out.
  if (closeEarly) stream.close();
}
