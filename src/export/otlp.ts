import type { OtlpProtocol } from '../config/types.js';
import { HttpSpanExporter, type HttpExporterOptions } from './http-exporter.js';
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
  // Required only for http/json, so the default protobuf exporter does not load the JSON encoder at start.
  private readonly encodeJson: typeof import('./otlp-json.js').encodeOtlpJson | null;
  private readonly exportBaggage: boolean;

  constructor(options: OtlpExporterOptions) {
    const json = options.protocol === 'http/json';
    super('otlp', json ? 'application/json' : 'application/x-protobuf', options);
    this.protobuf = json ? null : new OtlpProtobufEncoder();
    this.encodeJson = json ? (require('./otlp-json.js') as typeof import('./otlp-json.js')).encodeOtlpJson : null;
    this.exportBaggage = options.exportBaggage === true;
  }

  protected encode(spans: readonly MappedSpan[]): Buffer {
    return this.encodeJson !== null ? this.encodeJson(spans, this.resource) : this.protobuf!.encode(spans, this.resource);
  }

  /** Protobuf only: spans are encoded as they finish, straight into the open batch. */
  createEncoder(): SpanBatchEncoder | null {
    return this.protobuf === null ? null : new OtlpBatchEncoder(encodeEnvelope(this.resource), this.exportBaggage, this.framingRoom());
  }

  exportEncoded(batch: EncodedBatch): Promise<void> {
    return this.sendEncoded(batch);
  }
}
