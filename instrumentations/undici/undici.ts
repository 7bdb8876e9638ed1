import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { disableComponent, enableComponent } from './channels.js';

/**
 * Client spans for the npm `undici` package — `request`, `stream`, `pipeline`, `connect`/`upgrade` and
 * `Client`/`Pool`/`Agent` dispatchers — from undici's `diagnostics_channel` events; nothing is patched.
 * `undici.fetch` counts as `fetch` (see `fetchInstrumentation`), whichever copy of undici runs it.
 * Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=undici`.
 */
const undiciInstrumentation = defineInstrumentation({
  name: 'undici',
  // Every undici that publishes `undici:request:*` (all of 5.x and later) is traced without patching;
  // the subscription starts with the agent, whether or not the package is ever loaded.
  modules: [],
  patch(exports) {
    return exports;
  },
  start(ctx) {
    enableComponent('undici', ctx);
  },
  stop() {
    disableComponent('undici');
  },
});

/**
 * Client spans for `fetch`: Node's global one (a bundled undici that no module hook ever sees) and
 * npm `undici.fetch`. Subscribed when the agent starts. Opt out with
 * `TRACING_DISABLED_INSTRUMENTATIONS=fetch`.
 */
export const fetchInstrumentation = defineInstrumentation({
  name: 'fetch',
  modules: [],
  patch(exports) {
    return exports;
  },
  start(ctx) {
    enableComponent('fetch', ctx);
  },
  stop() {
    disableComponent('fetch');
  },
});

export default undiciInstrumentation;
