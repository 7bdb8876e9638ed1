import type { TagValue } from '../api/span.js';
import type { ExportConfig } from '../config/types.js';
import { describeError, log } from '../util/log.js';
import { BatchSpanProcessor } from './batch-processor.js';
import { ConsoleTreeProcessor } from './console.js';
import { JsonLinesExporter } from './json-lines.js';
import { OtlpSpanExporter } from './otlp.js';
import { MultiSpanProcessor, NoopSpanProcessor, type SpanProcessor } from './span-processor.js';
import { ZipkinSpanExporter } from './zipkin.js';

/**
 * Builds the processor (queue, batching, exporters) the configuration asks for: one pipeline per
 * exporter, so a slow backend cannot hold up the console or the file. An exporter that cannot be
 * built (say, a malformed URL) is left out with one warning; the others still run.
 */
export function createSpanProcessor(cfg: ExportConfig, resource: Readonly<Record<string, TagValue>>): SpanProcessor {
  const processors: SpanProcessor[] = [];
  const seen = new Set<string>();
  for (const name of cfg.exporters) {
    if (seen.has(name)) continue;
    seen.add(name);
    try {
      const processor = buildOne(name, cfg, resource);
      if (processor !== null) processors.push(processor);
    } catch (err) {
      log.warn(`exporter ${name} is off: ${describeError(err)}`);
    }
  }
  if (processors.length === 0) return new NoopSpanProcessor();
  return processors.length === 1 ? processors[0]! : new MultiSpanProcessor(processors);
}

function buildOne(name: string, cfg: ExportConfig, resource: Readonly<Record<string, TagValue>>): SpanProcessor | null {
  const common = { resource, exportBaggage: cfg.exportBaggage };
  const http = { ...common, headers: cfg.headers, compression: cfg.compression, timeoutMs: cfg.timeoutMs };
  switch (name) {
    case 'otlp':
      return new BatchSpanProcessor(new OtlpSpanExporter({ ...http, url: cfg.endpoint, protocol: cfg.protocol }), cfg.batch);
    case 'zipkin':
      return new BatchSpanProcessor(new ZipkinSpanExporter({ ...http, url: cfg.zipkinEndpoint }), cfg.batch);
    case 'console':
      if (cfg.consoleFormat === 'json') {
        return new BatchSpanProcessor(new JsonLinesExporter({ write: (text) => process.stderr.write(text) }, common), cfg.batch);
      }
      return new ConsoleTreeProcessor(common);
    case 'file':
      return new BatchSpanProcessor(new JsonLinesExporter({ file: cfg.file }, common), cfg.batch);
    case 'none':
      return null;
    default:
      throw new Error(`unknown exporter "${name}"; expected otlp, zipkin, console, file or none`);
  }
}
