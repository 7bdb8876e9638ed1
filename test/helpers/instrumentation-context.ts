import { instrumentations } from '../../instrumentations/index.js';
import type { InstrumentationContext, RegistryEntry } from '../../src/agent/instrumentation.js';
import { agentRuntime, InstrumentationRun, optionsSectionOf } from '../../src/agent/kit.js';
import { Tracer, type TracerOptions } from '../../src/tracer.js';
import { loadConfig } from '../../src/config/load.js';
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
 * Runs the shipped instrumentation `name` the way the loader does. The configuration goes through
 * the agent's own loading: `env` as `TRACING_*` variables, merged with a `TRACING_CONFIG` file whose
 * `instrumentations.<name>` section is `section`; then the registry's builders make the runtime
 * (`agentRuntime`: agent-wide settings, logs) and pick the section (`optionsSectionOf`), its code is
 * loaded through its registry line, its own reader reads the section, and `ctx` comes from
 * `InstrumentationRun`. A setting the agent would warn about fails the test instead.
 */
export function instrument<O = any>(name: string, tracer: Tracer, section: Record<string, unknown> = {}, env: Record<string, string> = {}): TestInstrumentation<O> {
  const entry = declarationOf(name);
  const file = JSON.stringify({ instrumentations: { [name]: section } });
  const { config, warnings } = loadConfig({ TRACING_SERVICE_NAME: 'test', ...env, TRACING_CONFIG: 'tracing.json' }, { readFile: () => file });
  if (warnings.length > 0) throw new Error(`the test's configuration is not valid: ${warnings.join('; ')}`);
  const run = new InstrumentationRun<O>(name, entry.load(), agentRuntime(config, tracer), optionsSectionOf(config, name));
  const ctx = run.context(process.versions.node);
  return {
    run,
    ctx,
    patch: (exports, target = 0) => run.code.patch!(exports, ctx, entry.modules[target]!),
    start: () => run.code.start!(run.context('')),
    undo: () => run.undo(),
  };
}
