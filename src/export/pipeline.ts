import type { TagValue } from '../api/span.js';
import type { ExportConfig } from '../config/types.js';
import { describeError, log } from '../util/log.js';
import type { BatchSpanProcessor as BatchSpanProcessorType } from './batch-processor.js';
import type { SpanProcessor } from '../api/span-processor.js';
import { MultiSpanProcessor, NoopSpanProcessor } from './span-processor.js';

// Each exporter's code is required only when the configuration names it, so start-up does not pay
// for the console, file and Zipkin code when only OTLP is on (or for any of it with `none`).
function batching(): typeof BatchSpanProcessorType {
  return (require('./batch-processor.js') as typeof import('./batch-processor.js')).BatchSpanProcessor;
}

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
    case 'otlp': {
      if (cfg.protocol === 'grpc') {
        const { OtlpGrpcSpanExporter } = require('./otlp-grpc.js') as typeof import('./otlp-grpc.js');
        return new (batching())(new OtlpGrpcSpanExporter({ ...http, url: cfg.endpoint }), cfg.batch);
      }
      const { OtlpSpanExporter } = require('./otlp.js') as typeof import('./otlp.js');
      return new (batching())(new OtlpSpanExporter({ ...http, url: cfg.endpoint, protocol: cfg.protocol }), cfg.batch);
    }
    case 'zipkin': {
      const { ZipkinSpanExporter } = require('./zipkin.js') as typeof import('./zipkin.js');
      return new (batching())(new ZipkinSpanExporter({ ...http, url: cfg.zipkinEndpoint }), cfg.batch);
    }
    case 'console':
      if (cfg.consoleFormat === 'json') {
        const { JsonLinesExporter } = require('./json-lines.js') as typeof import('./json-lines.js');
        return new (batching())(new JsonLinesExporter({ write: (text) => process.stderr.write(text) }, common), cfg.batch);
      }
      const { ConsoleTreeProcessor } = require('./console.js') as typeof import('./console.js');
      return new ConsoleTreeProcessor(common);
    case 'file': {
      const { JsonLinesExporter } = require('./json-lines.js') as typeof import('./json-lines.js');
      return new (batching())(new JsonLinesExporter({ file: cfg.file }, common), cfg.batch);
    }
    case 'none':
      return null;
    default:
      throw new Error(`unknown exporter "${name}"; expected otlp, zipkin, console, file or none`);
  }
}
