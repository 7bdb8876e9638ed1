import { HttpSpanExporter, type HttpExporterOptions } from './http-exporter.js';
import { serviceNameOf } from './resource.js';
import type { MappedSpan } from './span-model.js';
import { encodeZipkin } from './zipkin-json.js';

/** Sends spans as Zipkin v2 JSON to `/api/v2/spans`. */
export class ZipkinSpanExporter extends HttpSpanExporter {
  private readonly serviceName: string;

  constructor(options: HttpExporterOptions) {
    super('zipkin', 'application/json', options);
    this.serviceName = serviceNameOf(this.resource);
  }

  protected encode(spans: readonly MappedSpan[]): Buffer {
    return encodeZipkin(spans, this.serviceName);
  }
}
