import type { Span } from '../api/span.js';
import type { SpanExporter } from './span-processor.js';

/** Writes one line per finished span to stderr; a stand-in until the tree view lands. */
export class ConsoleSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n')) {}

  async export(spans: readonly Span[]): Promise<void> {
    for (const span of spans) {
      const ctx = span.context();
      const tags = Object.entries(span.tags).map(([k, v]) => `${k}=${String(v)}`).join(' ');
      this.write(`[span] ${span.operationName} ${span.duration.toFixed(2)}ms trace=${ctx.traceId} span=${ctx.spanId} parent=${span.parentSpanId || '-'} ${tags}`);
    }
  }

  async shutdown(): Promise<void> {}
}
