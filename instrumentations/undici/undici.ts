import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { readUndiciOptions, subscribeComponent, type UndiciOptions } from './channels.js';

/**
 * Client spans for the npm `undici` package — `request`, `stream`, `pipeline`, `connect`/`upgrade` and
 * `Client`/`Pool`/`Agent` dispatchers — from undici's `diagnostics_channel` events; nothing is patched.
 * Every undici that publishes `undici:request:*` (all of 5.x and later) is traced, whether or not the
 * package is ever loaded through a hook. `undici.fetch` counts as `fetch` (fetch.ts), whichever copy
 * of undici runs it. Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=undici`.
 */
export default defineInstrumentation<UndiciOptions>({
  options: readUndiciOptions,
  start(ctx) {
    subscribeComponent('undici', ctx);
  },
});
