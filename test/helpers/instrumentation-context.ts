import { Tracer } from '../../src/api/tracer.js';
import { InMemorySpanExporter } from '../../src/export/memory.js';
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { unwrapMethod, wrapMethod } from '../../src/agent/wrap.js';
import { log } from '../../src/util/log.js';

/**
 * A context like the loader's, for unit tests that patch a module in-process:
 * a tracer recording into memory, and the loader's own wrap/unwrap.
 */
export function testContext(config: Record<string, unknown> = {}): { ctx: InstrumentationContext; tracer: Tracer; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const ctx: InstrumentationContext = {
    tracer,
    config,
    log,
    moduleVersion: process.versions.node,
    wrap: (target, name, wrapper) => wrapMethod(target, name, wrapper),
    unwrap: (target, name) => unwrapMethod(target, name),
  };
  return { ctx, tracer, exporter };
}
