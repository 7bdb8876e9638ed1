import type { OtlpProtocol } from '../config/types.js';
import { HttpSpanExporter, type HttpExporterOptions } from './http-exporter.js';
import { encodeOtlpJson } from './otlp-json.js';
import type { Span } from '../api/span.js';
import { guard } from '../util/log.js';
import { encodeEnvelope, OtlpProtobufEncoder, wrapEncodedSpans, writeFinishedSpan } from './otlp-protobuf.js';
import { ProtoWriter } from './protobuf-writer.js';
import type { MappedSpan } from './span-model.js';
import type { EncodedBatch, SpanBatchEncoder } from './span-processor.js';

/** Options of the OTLP exporter. */
export interface OtlpExporterOptions extends HttpExporterOptions {
  /** `http/protobuf` (default) or `http/json`. */
  protocol?: OtlpProtocol;
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

/**
 * The open batch of an OTLP/protobuf pipeline: span messages appended to one reused buffer as spans
 * finish; `seal` puts the resource and scope around them in one allocation, byte for byte what
 * `OtlpProtobufEncoder.encode` makes of the same spans.
 */
export class OtlpBatchEncoder implements SpanBatchEncoder {
  openCount = 0;
  private readonly writer = new ProtoWriter();

  constructor(
    private readonly envelope: { resourceField: Buffer; scopeField: Buffer },
    private readonly exportBaggage: boolean,
  ) {}

  append(span: Span): void {
    const mark = this.writer.length;
    try {
      writeFinishedSpan(this.writer, span, this.exportBaggage);
    } catch (err) {
      this.writer.truncate(mark);
      throw err;
    }
    this.openCount++;
  }

  seal(): EncodedBatch {
    const count = this.openCount;
    const bytes = guard('export encoding', () => wrapEncodedSpans(this.envelope, this.writer.view()), Buffer.alloc(0));
    this.writer.reset();
    this.openCount = 0;
    return { count, bytes };
  }
}
