// Encodes requests with the official OpenTelemetry generated code (shipped by
// @opentelemetry/otlp-transformer), so the decoder is checked against bytes it did not write.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const Response = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;

/** Encodes a request given in protobufjs object form (ids as Buffers, times as decimal strings). */
export function encodeOfficial(request: unknown): Buffer {
  return Buffer.from(Request.encode(Request.fromObject(request)).finish());
}

/** Decodes an ExportTraceServiceResponse with the official code. */
export function decodeOfficialResponse(buf: Buffer): { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } } {
  return Response.toObject(Response.decode(buf), { longs: String, defaults: false });
}

export const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
