import type { OtlpProtocol } from '../config/types.js';
import { HttpSpanExporter, type HttpExporterOptions } from './http-exporter.js';
import { encodeOtlpJson } from './otlp-json.js';
import { encodeEnvelope, OtlpBatchEncoder, OtlpProtobufEncoder } from './otlp-protobuf.js';
import type { MappedSpan } from './span-model.js';
import type { EncodedBatch, SpanBatchEncoder } from './span-processor.js';

/** Options of the OTLP exporter. */
export interface OtlpExporterOptions extends HttpExporterOptions {
  /** `http/protobuf` (default) or `http/json` (`grpc` has its own exporter, `OtlpGrpcSpanExporter`). */
  protocol?: Exclude<OtlpProtocol, 'grpc'>;
}

/** Sends spans over OTLP/HTTP to a Collector, Jaeger, Tempo or any OTLP receiver. */
export class OtlpSpanExporter extends HttpSpanExporter {
  private readonly protobuf: OtlpProtobufEncoder | null;
  private readonly exportBaggage: boolean;

  constructor(options: OtlpExporterOptions) {
    const json = options.protocol === 'http/json';
    super('otlp', json ? 'application/json' : 'application/x-protobuf', options);
    this.protobuf = json ? null : new OtlpProtobufEncoder();
    this.exportBaggage = options.exportBaggage === true;
  }

  protected encode(spans: readonly MappedSpan[]): Buffer {
    return this.protobuf === null ? encodeOtlpJson(spans, this.resource) : this.protobuf.encode(spans, this.resource);
  }

  /** Protobuf only: spans are encoded as they finish, straight into the open batch. */
  createEncoder(): SpanBatchEncoder | null {
    return this.protobuf === null ? null : new OtlpBatchEncoder(encodeEnvelope(this.resource), this.exportBaggage);
  }

  exportEncoded(batch: EncodedBatch): Promise<void> {
    return this.sendEncoded(batch.bytes, batch.count);
  }
}
