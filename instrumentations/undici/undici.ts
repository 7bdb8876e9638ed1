import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { disableComponent, enableComponent } from './channels.js';
import { patchRequestHandler } from './body.js';

/**
 * Client spans for the npm `undici` package — `request`, `stream`, `pipeline`, `connect`/`upgrade` and
 * `Client`/`Pool`/`Agent` dispatchers — from undici's `diagnostics_channel` events; the only patch makes
 * a `request` body's listeners run in the caller's context.
 * `undici.fetch` counts as `fetch` (see `fetchInstrumentation`), whichever copy of undici runs it.
 * Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=undici`.
 */
const undiciInstrumentation = defineInstrumentation({
  name: 'undici',
  // Every undici that publishes `undici:request:*` (all of 5.x and later) is traced without patching;
  // the subscription starts with the agent, whether or not the package is ever loaded. The one patch:
  // `request` bodies' events run in their caller's context (see body.ts).
  modules: [{ name: 'undici', versions: '>=5', file: 'lib/api/api-request.js' }],
  patch(exports, ctx) {
    patchRequestHandler(exports, ctx);
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
