import { GrpcSender } from './grpc-sender.js';
import { HttpSpanExporter, type HttpExporterOptions } from './http-exporter.js';
import { encodeEnvelope, OtlpBatchEncoder, OtlpProtobufEncoder } from './otlp-protobuf.js';
import type { MappedSpan } from './span-model.js';
import type { EncodedBatch, SpanBatchEncoder } from './span-processor.js';

/**
 * Sends spans over OTLP/gRPC (`TraceService/Export`) to a Collector's port 4317: the same
 * `ExportTraceServiceRequest` bytes as OTLP/HTTP protobuf, framed as one gRPC message over HTTP/2.
 * Only required when `TRACING_EXPORTER_PROTOCOL=grpc`, so `node:http2` is never loaded otherwise.
 */
export class OtlpGrpcSpanExporter extends HttpSpanExporter {
  private readonly protobuf = new OtlpProtobufEncoder();
  private readonly exportBaggage: boolean;

  constructor(options: HttpExporterOptions) {
    super('otlp grpc', new GrpcSender(options), options);
    this.exportBaggage = options.exportBaggage === true;
  }

  protected encode(spans: readonly MappedSpan[]): Buffer {
    return this.protobuf.encode(spans, this.resource);
  }

  /** Spans are encoded as they finish, straight into the open batch (as over OTLP/HTTP protobuf). */
  createEncoder(): SpanBatchEncoder {
    return new OtlpBatchEncoder(encodeEnvelope(this.resource), this.exportBaggage);
  }

  exportEncoded(batch: EncodedBatch): Promise<void> {
    return this.sendEncoded(batch);
  }
}
