import type { SpanProcessor } from '../api/span-processor.js';
import type { Tracer } from '../api/tracer.js';
import path = require('node:path');
import { loadConfig } from '../config/load.js';
import { describeError, log, setLogLevel } from '../util/log.js';

// Everything past the configuration is required only once tracing is known to be on: with
// TRACING_ENABLED=false the agent loads the configuration and nothing else (see docs/performance.md).
// At start only the hooks' half runs (the module hooks, the registry, the exit hooks, the global tracer's
// registration); the tracer core (tracer, scope, propagators, sampler, span processor, the instrumentation
// kit) is built at the first instrumentation that runs or the first call on `globalTracer()`: a process
// that loads nothing instrumented and starts no span never evaluates it.
type HookModules = {
  global: typeof import('../api/global.js');
  shutdown: typeof import('./shutdown.js');
  hooks: typeof import('./hooks.js');
};
type CoreModules = {
  tracer: typeof import('../tracer.js');
  pipeline: typeof import('../export/pipeline.js');
  propagation: typeof import('../propagation/factory.js');
  sampling: typeof import('../sampling/factory.js');
};

function loadTracingModules(): HookModules {
  loadTracingBundle();
  return {
    global: require('../api/global.js'),
    shutdown: require('./shutdown.js'),
    hooks: require('./hooks.js'),
  };
}

function loadCoreModules(): CoreModules {
  loadBundleFile('core-bundle.js');
  return {
    tracer: require('../tracer.js'),
    pipeline: require('../export/pipeline.js'),
    propagation: require('../propagation/factory.js'),
    sampling: require('../sampling/factory.js'),
  };
}

/**
 * The modules below as one file, when the build wrote it (scripts/bundle-start.mjs): each registers
 * itself under its own dist file name, so the requires that follow get it without a resolve, read and
 * compile per file. Loaded here, not by register: with TRACING_ENABLED=false it is never read. Through
 * the V8 code cache when one is usable (./code-cache.ts), as the start bundle is.
 */
function loadTracingBundle(): void {
  loadBundleFile('tracing-bundle.js');
}

/** One of the bundles beside this file, through the code cache; nothing when the build has no bundles (tsc alone). */
function loadBundleFile(name: string): void {
  try {
    const codeCache = require('./code-cache.js') as typeof import('./code-cache.js');
    codeCache.loadBundle(path.join(__dirname, name), module);
    codeCache.reportCodeCache(log);
  } catch (err) {
    // A build without the bundle step (tsc alone): the same modules, file by file.
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((err as Error).message).includes(name)) throw err;
  }
}

function lazyProcessor(): typeof import('./lazy-processor.js') {
  return require('./lazy-processor.js') as typeof import('./lazy-processor.js');
}

let started: Tracer | null = null;

/**
 * Starts the agent once per process: reads the configuration, builds the tracer and registers it
 * as the global tracer. Never throws: a failure leaves the app running untraced, with one warning.
 */
export function start(env: NodeJS.ProcessEnv = process.env): Tracer | null {
  if (started !== null) return started;
  try {
    const { config, warnings } = loadConfig(env);
    setLogLevel(config.logLevel);
    for (const w of warnings) log.warn(w);
    (require('./code-cache.js') as typeof import('./code-cache.js')).reportCodeCache(log);
    // The start-up line is written at info and debug only: its code is not loaded otherwise.
    if (config.logLevel === 'info' || config.logLevel === 'debug') {
      log.info((require('../config/describe.js') as typeof import('../config/describe.js')).describeConfig(config));
    }
    if (!config.enabled) return null;
    const m = loadTracingModules();
    const resource: Record<string, string | number | boolean> = { ...config.tags, 'service.name': config.serviceName };
    if (config.serviceVersion !== '') resource['service.version'] = config.serviceVersion;
    if (config.environment !== '') resource['deployment.environment'] = config.environment;
    // Required only when asked for: most apps send no logs through the agent.
    const logs = config.logs.exporter === 'none' ? null : (require('../export/log-pipeline.js') as typeof import('../export/log-pipeline.js')).createLogPipeline(config.logs, config.export, resource);
    let core: { tracer: Tracer; processor: SpanProcessor } | null = null;
    // The tracer core, built once, at the first instrumentation that runs or the first use of globalTracer().
    let failed: Tracer | null = null;
    let building = false;
    const buildCore = (): Tracer => {
      if (core !== null) return core.tracer;
      if (failed !== null) return failed;
      // Asked for again while it is being built (something the build loads is instrumented): not a second tracer.
      if (building) throw new Error('the tracer was asked for while it was being built');
      building = true;
      try {
        return buildCoreNow();
      } catch (err) {
        // As a failed start: one warning, and the app runs untraced (the no-op tracer records nothing).
        log.warn(`could not start, the app runs untraced: ${describeError(err)}`);
        const { NoopTracer } = require('../api/noop.js') as typeof import('../api/noop.js');
        failed = new NoopTracer();
        m.global.initGlobalTracer(failed);
        return failed;
      } finally {
        building = false;
      }
    };
    const buildCoreNow = (): Tracer => {
      const c = loadCoreModules();
      // Built at the first finished span (./lazy-processor.ts); `none` alone is nothing to defer.
      const exportsSomething = config.export.exporters.some((name) => name !== 'none');
      const build = () => c.pipeline.createSpanProcessor(config.export, resource);
      // The code cache is written again if the file in use lacks the exporters' code, once the first batch has
      // had time to go out (the batch delay, and two seconds for its send).
      const buildExporting = () => {
        (require('./code-cache.js') as typeof import('./code-cache.js')).exportPathStarted(config.export.batch.scheduledDelayMs + 2000);
        return build();
      };
      const processor = exportsSomething ? new (lazyProcessor().LazySpanProcessor)(buildExporting) : build();
      const tracer = c.tracer.createTracer({
        sampler: c.sampling.createSampler(config.sampling),
        propagator: c.propagation.createPropagator(config.propagation),
        processor,
        resource,
      });
      core = { tracer, processor };
      m.global.initGlobalTracer(tracer);
      return tracer;
    };
    m.global.initGlobalTracerOnFirstUse(buildCore);
    // Exit flushes log records with the spans, under the same deadline; nothing to flush before the core is built.
    const flushed = {
      // A processor that keeps no count (undefined) is flushed once at exit, as before the core was deferred.
      pendingCount: (): number | undefined => {
        if (core === null) return logs === null ? 0 : logs.pendingCount();
        const spans = core.processor.pendingCount?.();
        return logs === null ? spans : (spans ?? 0) + logs.pendingCount();
      },
      forceFlush: (exitDeadline?: number) =>
        Promise.all([core?.processor.forceFlush(exitDeadline), logs?.forceFlush(exitDeadline)]).then(() => {
          // A cache file written at this exit holds the send half of the export path only from now on.
          if (exitDeadline !== undefined && core !== null) (require('./code-cache.js') as typeof import('./code-cache.js')).exitFlushEnded();
        }),
    };
    const flushable = { flush: () => (core === null ? Promise.resolve() : core.tracer.flush()) };
    m.shutdown.installShutdownHooks(flushable, { processor: flushed, exitTimeoutMs: config.export.exitTimeoutMs, onStop: m.hooks.stopInstrumentations });
    const tracer = m.global.globalTracer();
    started = tracer;
    m.hooks.installHooks(config, buildCore, logs === null ? null : logs.emit);
    return tracer;
  } catch (err) {
    log.warn(`could not start, the app runs untraced: ${describeError(err)}`);
    return null;
  }
}
