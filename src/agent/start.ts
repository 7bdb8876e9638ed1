import { initGlobalTracer } from '../api/global.js';
import { Tracer } from '../api/tracer.js';
import { ConsoleSpanExporter } from '../export/console.js';
import { SimpleSpanProcessor } from '../export/span-processor.js';
import { describeError, log } from '../util/log.js';

let started: Tracer | null = null;

/**
 * Starts the agent once per process: builds the tracer and registers it as the global tracer.
 * Never throws: a failure leaves the app running untraced, with one warning.
 */
export function start(env: NodeJS.ProcessEnv = process.env): Tracer | null {
  if (started !== null) return started;
  try {
    const exporter = env.TRACING_EXPORTER === 'console' ? new ConsoleSpanExporter() : null;
    const tracer = new Tracer(exporter === null ? {} : { processor: new SimpleSpanProcessor(exporter) });
    initGlobalTracer(tracer);
    started = tracer;
    return tracer;
  } catch (err) {
    log.warn(`could not start, the app runs untraced: ${describeError(err)}`);
    return null;
  }
}
