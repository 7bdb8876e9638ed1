import { initGlobalTracer } from '../api/global.js';
import { Tracer } from '../api/tracer.js';
import { describeConfig } from '../config/describe.js';
import { loadConfig } from '../config/load.js';
import { createSpanProcessor } from '../export/pipeline.js';
import { createPropagator } from '../propagation/factory.js';
import { createSampler } from '../sampling/factory.js';
import { installShutdownHooks } from './shutdown.js';
import { describeError, log, setLogLevel } from '../util/log.js';
import { installHooks } from './hooks.js';

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
    log.info(describeConfig(config));
    if (!config.enabled) return null;
    const resource: Record<string, string | number | boolean> = { ...config.tags, 'service.name': config.serviceName };
    if (config.serviceVersion !== '') resource['service.version'] = config.serviceVersion;
    if (config.environment !== '') resource['deployment.environment'] = config.environment;
    const processor = createSpanProcessor(config.export, resource);
    const tracer = new Tracer({
      sampler: createSampler(config.sampling),
      propagator: createPropagator(config.propagation),
      processor,
      resource,
    });
    initGlobalTracer(tracer);
    installShutdownHooks(tracer, { processor });
    started = tracer;
    installHooks(config, tracer);
    return tracer;
  } catch (err) {
    log.warn(`could not start, the app runs untraced: ${describeError(err)}`);
    return null;
  }
}
