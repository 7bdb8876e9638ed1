import { Tracer } from '../../src/api/tracer.js';
import { InMemorySpanExporter } from '../../src/export/memory.js';
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { log } from '../../src/util/log.js';

const ORIGINAL = Symbol('original');

/**
 * A context like the loader's, for unit tests that patch a module in-process:
 * a tracer recording into memory, and a wrap/unwrap that keep name and length.
 */
export function testContext(config: Record<string, unknown> = {}): { ctx: InstrumentationContext; tracer: Tracer; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const ctx: InstrumentationContext = {
    tracer,
    config,
    log,
    moduleVersion: process.versions.node,
    wrap(target, name, wrapper) {
      const original = target[name] as unknown as Function;
      const wrapped = wrapper(target[name]) as unknown as Function;
      Object.defineProperty(wrapped, ORIGINAL, { value: original });
      Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
      Object.defineProperty(wrapped, 'length', { value: original.length, configurable: true });
      (target as Record<PropertyKey, unknown>)[name as PropertyKey] = wrapped;
    },
    unwrap(target, name) {
      const current = target[name] as unknown as Record<symbol, unknown>;
      if (current[ORIGINAL] !== undefined) (target as Record<PropertyKey, unknown>)[name as PropertyKey] = current[ORIGINAL];
    },
  };
  return { ctx, tracer, exporter };
}
