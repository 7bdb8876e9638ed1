import { instrumentations } from '../../instrumentations/index.js';
import type { InstrumentationContext, RegistryEntry } from '../../src/agent/instrumentation.js';
import { buildAgentSettings, InstrumentationRun } from '../../src/agent/kit.js';
import { Tracer, type TracerOptions } from '../../src/tracer.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { InMemorySpanExporter } from '../../src/export/memory.js';

/** The registry line of a shipped instrumentation. */
export function declarationOf(name: string): RegistryEntry {
  const entry = instrumentations.find((d) => d.name === name);
  if (entry === undefined) throw new Error(`no instrumentation named ${name}`);
  return entry;
}

/** A tracer recording into memory. */
export function memoryTracer(opts: Omit<TracerOptions, 'processor'> = {}): { tracer: Tracer; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { tracer: new Tracer({ ...opts, processor: exporter }), exporter };
}

/** One instrumentation run in-process exactly as the loader runs it (same context builder, same undo). */
export interface TestInstrumentation<O = any> {
  run: InstrumentationRun<O>;
  /** The `ctx` the loader would hand `patch`/`start`. */
  ctx: InstrumentationContext<O>;
  /** Calls the code's `patch` with the declaration's `modules[target]`. */
  patch(exports: unknown, target?: number): unknown;
  /** Calls the code's `start` (a `subscribe` instrumentation). */
  start(): void;
  /** The loader's undo: every wrap and subscription taken back. */
  undo(): void;
}

/**
 * Runs the shipped instrumentation `name` the way the loader does: its code loaded through its
 * registry line, `options` read by its own reader (as from its section of the config file), the
 * agent-wide settings built from `config`, and `ctx` from the loader's `InstrumentationRun`.
 */
export function instrument<O = any>(name: string, tracer: Tracer, options: Record<string, unknown> = {}, config: Partial<Config> = {}): TestInstrumentation<O> {
  const entry = declarationOf(name);
  const run = new InstrumentationRun<O>(name, entry.load(), { tracer, settings: buildAgentSettings({ ...defaultConfig(), ...config }) }, options);
  const ctx = run.context(process.versions.node);
  return {
    run,
    ctx,
    patch: (exports, target = 0) => run.code.patch!(exports, ctx, entry.modules[target]!),
    start: () => run.code.start!(run.context('')),
    undo: () => run.undo(),
  };
}

/**
 * A context like the loader's for code that is not a shipped instrumentation (shared helpers),
 * with a tracer recording into memory; `options` are its `ctx.options` as given.
 */
export function testContext(options: Record<string, unknown> = {}, config: Partial<Config> = {}): { ctx: InstrumentationContext; tracer: Tracer; exporter: InMemorySpanExporter; run: InstrumentationRun } {
  const { tracer, exporter } = memoryTracer();
  const run = new InstrumentationRun('test', {}, { tracer, settings: buildAgentSettings({ ...defaultConfig(), ...config }) }, options);
  return { ctx: run.context(process.versions.node), tracer, exporter, run };
}
