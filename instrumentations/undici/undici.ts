import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { readUndiciOptions, subscribeComponent, type UndiciOptions } from './channels.js';
import { patchRequestHandler } from './body.js';

/**
 * Client spans for the npm `undici` package — `request`, `stream`, `pipeline`, `connect`/`upgrade` and
 * `Client`/`Pool`/`Agent` dispatchers — from undici's `diagnostics_channel` events. The one patch
 * (`lib/api/api-request.js`) makes a `request` body's listeners run in the caller's context (body.ts).
 * Every undici that publishes `undici:request:*` (all of 5.x and later) is traced, whether or not the
 * package is ever loaded through a hook. `undici.fetch` counts as `fetch` (fetch.ts), whichever copy
 * of undici runs it. Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=undici`.
 */
export default defineInstrumentation<UndiciOptions>({
  options: readUndiciOptions,
  patch(exports, ctx) {
    patchRequestHandler(exports, ctx);
    return exports;
  },
  start(ctx) {
    subscribeComponent('undici', ctx);
  },
});
