import type { Span } from '../api/span.js';
import type { SpanExporter } from './span-processor.js';
import type { SpanProcessor } from '../api/span-processor.js';

/**
 * Keeps finished spans in memory, in finishing order. Usable as a processor (synchronous,
 * for tests) or as an exporter behind a batch processor.
 */
export class InMemorySpanExporter implements SpanExporter, SpanProcessor {
  private spans: Span[] = [];

  onEnd(span: Span): void {
    this.spans.push(span);
  }
  async export(spans: readonly Span[]): Promise<void> {
    for (const s of spans) this.spans.push(s);
  }
  /** The spans finished so far. */
  getFinishedSpans(): readonly Span[] {
    return this.spans;
  }
  reset(): void {
    this.spans = [];
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
