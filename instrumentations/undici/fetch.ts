import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { readUndiciOptions, subscribeComponent, type UndiciOptions } from './channels.js';

/**
 * Client spans for `fetch`: Node's global one (a bundled undici that no module hook ever sees) and
 * npm `undici.fetch`, from undici's `diagnostics_channel` events. Subscribed when the agent starts.
 * Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=fetch`.
 */
export default defineInstrumentation<UndiciOptions>({
  options: readUndiciOptions,
  start(ctx) {
    subscribeComponent('fetch', ctx);
  },
});
