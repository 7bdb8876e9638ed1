import { defineInstrumentation, type InstrumentationEntry } from '../../src/agent/instrumentation.js';

/**
 * Makes our tracer the `opentracing` package's global tracer as soon as the app loads that
 * package, so code written against OpenTracing (`opentracing.globalTracer()`) joins our traces.
 */
const opentracingBridge = defineInstrumentation({
  name: 'opentracing',
  modules: [{ name: 'opentracing', versions: '>=0.13.0 <1' }],
  patch(exports: { initGlobalTracer?: unknown }, { tracer }) {
    if (typeof exports.initGlobalTracer === 'function') exports.initGlobalTracer(tracer);
  },
});

export default opentracingBridge;

/** Its registry line (always available, switched off like any other by the name `opentracing`). */
export const opentracingBridgeEntry: InstrumentationEntry = {
  name: 'opentracing',
  modules: ['opentracing'],
  load: () => opentracingBridge,
};
