import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import { readDbOptions, type DbOptions } from '../db-common/client-span.js';
import { startChannels } from './channels.js';

/**
 * Client spans for node-redis (`redis` 4, 5 and 6, through `@redis/client` 1.x, 5.x and 6.x): one
 * span per command (`GET`), one per `multi().exec()` (`MULTI`) or pipeline (`PIPELINE`, with
 * `db.redis.pipeline_length`); a pipeline's commands make no span of their own.
 *
 * @redis/client ≥ 5.12 publishes its commands on `diagnostics_channel`: those versions are traced
 * by subscribing (`channels.ts`), nothing is patched. Older versions are patched
 * (`patch.ts`). Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=redis`.
 */

// Every version is claimed (`>=1`, as the config command reports); `patch` leaves alone the ones
// traced through diagnostics_channel, and `commander.js` is only patched where 1.x builds its commands.
const COMMANDER_FILE = 'dist/lib/commander.js';
const COMMANDER_PATCHED = '>=1 <2';
const CLIENT_PATCHED = '>=1 <2 || >=5.0.0-0 <5.12.0';

export default defineInstrumentation<DbOptions>({
  options: readDbOptions,
  patch(exports, ctx, target) {
    const { log, moduleVersion } = ctx;
    const isCommander = target.file === COMMANDER_FILE;
    // Required here, not at the top: this file loads at start (its channels are subscribed eagerly)
    // and semver is needed only once @redis/client itself loads.
    const satisfies = require('semver/functions/satisfies') as typeof import('semver/functions/satisfies');
    if (!satisfies(moduleVersion, isCommander ? COMMANDER_PATCHED : CLIENT_PATCHED, { includePrerelease: true })) {
      if (!isCommander) log.debug(`@redis/client ${moduleVersion} publishes its commands on diagnostics_channel: subscribed, not patched`);
      return exports;
    }
    // Required here: the instrumentation loads at start (it subscribes), the patching code only
    // when an old @redis/client loads.
    const { patchClient, patchCommanderV1 } = require('./patch.js') as typeof import('./patch.js');
    if (isCommander) patchCommanderV1(exports, ctx);
    else patchClient(exports?.default, ctx);
    return exports;
  },
  start(ctx) {
    startChannels(ctx);
  },
});
