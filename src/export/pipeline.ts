import type { TagValue } from '../api/span.js';
import type { ExportConfig } from '../config/types.js';
import { ConsoleSpanExporter } from './console.js';
import { MultiSpanProcessor, NoopSpanProcessor, SimpleSpanProcessor, type SpanProcessor } from './span-processor.js';

/** Builds the processor (queue, batching, exporters) the configuration asks for. */
export function createSpanProcessor(cfg: ExportConfig, _resource: Readonly<Record<string, TagValue>>): SpanProcessor {
  // Placeholder until the export issue lands: console only.
  const processors: SpanProcessor[] = [];
  for (const name of cfg.exporters) {
    if (name === 'console') processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  }
  if (processors.length === 0) return new NoopSpanProcessor();
  return processors.length === 1 ? processors[0]! : new MultiSpanProcessor(processors);
}
