import { appendFile } from 'node:fs/promises';
import type { Span, TagValue } from '../api/span.js';
import { guard } from '../util/log.js';
import { DropReporter } from './drop-reporter.js';
import { buildResource, serviceNameOf } from './resource.js';
import type { SpanExporter } from './span-processor.js';
import { toSpanRecord } from './span-json.js';
import { mapSpan, type MapOptions } from './span-model.js';

/** Where JSON lines go: appended to a file, or written to a stream such as stderr. */
export type LineSink = { file: string } | { write: (chunk: string) => void };

/** Options of `JsonLinesExporter`. */
export interface JsonLinesOptions extends Partial<MapOptions> {
  resource?: Readonly<Record<string, TagValue>>;
}

/** Writes one JSON object per span and line; a batch is one write. */
export class JsonLinesExporter implements SpanExporter {
  private readonly service: string;
  private readonly mapOptions: MapOptions;
  readonly drops: DropReporter;

  constructor(private readonly sink: LineSink, options: JsonLinesOptions = {}) {
    this.service = serviceNameOf(buildResource(options.resource ?? {}));
    this.mapOptions = { exportBaggage: options.exportBaggage === true };
    this.drops = new DropReporter('file' in sink ? `file exporter (${sink.file})` : 'console exporter');
  }

  async export(spans: readonly Span[]): Promise<void> {
    const text = guard('json lines encoding', () => {
      let out = '';
      for (const span of spans) out += JSON.stringify(toSpanRecord(mapSpan(span, this.mapOptions), this.service)) + '\n';
      return out;
    }, null);
    if (text === null || text === '') return;
    try {
      if ('file' in this.sink) await appendFile(this.sink.file, text, 'utf8');
      else this.sink.write(text);
    } catch (err) {
      this.drops.add(spans.length, (err as Error).message);
    }
  }

  async shutdown(): Promise<void> {}
}
