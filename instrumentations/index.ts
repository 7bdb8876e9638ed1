import type { InstrumentationEntry } from '../src/agent/instrumentation.js';

/**
 * Every instrumentation the agent ships, one line each. An entry names the modules to hook (a package,
 * a built-in, or `package/path/to/file.js`) so the hooks can be set up without loading any
 * instrumentation code; `load` runs only when one of those modules is first loaded. To add one:
 *
 *   { name: 'http', modules: ['http', 'https'], load: () => require('./http.js').default },
 *
 * `modules` must list the same modules as the instrumentation's own `modules`; a `diagnostics_channel`
 * subscriber adds `subscribes: true` so its `start()` runs when the agent starts.
 */
export const instrumentations: readonly InstrumentationEntry[] = [
  { name: 'http', modules: ['http'], load: () => require('./http.js').default },
  { name: 'https', modules: ['https'], load: () => require('./https.js').default },
  { name: 'undici', modules: ['undici/lib/api/api-request.js'], load: () => require('./undici.js').default, subscribes: true },
  { name: 'fetch', modules: [], load: () => require('./undici.js').fetchInstrumentation, subscribes: true },
  { name: 'express', modules: ['express'], load: () => require('./express.js').default },
  { name: 'fastify', modules: ['fastify'], load: () => require('./fastify.js').default },
  { name: 'koa', modules: ['koa'], load: () => require('./koa.js').default },
  { name: 'pg', modules: ['pg/lib/client.js', 'pg-pool'], load: () => require('./pg.js').default },
  { name: 'mysql2', modules: ['mysql2/lib/connection.js', 'mysql2/lib/pool.js'], load: () => require('./mysql2.js').default },
  { name: 'ioredis', modules: ['ioredis'], load: () => require('./ioredis.js').default },
  {
    name: 'redis',
    modules: ['@redis/client/dist/lib/commander.js', '@redis/client/dist/lib/client/index.js'],
    load: () => require('./redis.js').default,
    subscribes: true,
  },
  { name: 'hapi', modules: ['@hapi/hapi/lib/request.js'], load: () => require('./hapi.js').default },
];
