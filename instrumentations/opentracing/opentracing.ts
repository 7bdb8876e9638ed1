import { defineInstrumentation } from '../../src/agent/instrumentation.js';

/**
 * Makes our tracer the `opentracing` package's global tracer as soon as the app loads that
 * package, so code written against OpenTracing (`opentracing.globalTracer()`) joins our traces.
 * Switched off like any other, by the name `opentracing`.
 */
export default defineInstrumentation({
  patch(exports: { initGlobalTracer?: unknown }, { tracer }) {
    if (typeof exports.initGlobalTracer === 'function') exports.initGlobalTracer(tracer);
  },
});
