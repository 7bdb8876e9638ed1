import type { InstrumentationEntry } from '../src/agent/instrumentation.js';

/**
 * Every instrumentation the agent ships, one line each. An entry names the modules to hook (a package,
 * a built-in, or `package/path/to/file.js`) so the hooks can be set up without loading any
 * instrumentation code; `load` runs only when one of those modules is first loaded. To add one:
 *
 *   { name: 'http', modules: ['http', 'https'], load: () => require('./http/http.js').default },
 *
 * `modules` must list the same modules as the instrumentation's own `modules`; a `diagnostics_channel`
 * subscriber adds `subscribes: true` so its `start()` runs when the agent starts.
 */
export const instrumentations: readonly InstrumentationEntry[] = [
  { name: 'http', modules: ['http'], load: () => require('./http/http.js').default },
  { name: 'https', modules: ['https'], load: () => require('./http/https.js').default },
  { name: 'undici', modules: ['undici/lib/api/api-request.js'], load: () => require('./undici/undici.js').default, subscribes: true },
  { name: 'fetch', modules: [], load: () => require('./undici/undici.js').fetchInstrumentation, subscribes: true },
  { name: 'express', modules: ['express'], load: () => require('./frameworks/express.js').default },
  { name: 'fastify', modules: ['fastify'], load: () => require('./frameworks/fastify.js').default },
  { name: 'koa', modules: ['koa'], load: () => require('./frameworks/koa.js').default },
  { name: 'pg', modules: ['pg/lib/client.js', 'pg-pool'], load: () => require('./sql/pg.js').default },
  { name: 'mysql2', modules: ['mysql2/lib/connection.js', 'mysql2/lib/pool.js'], load: () => require('./sql/mysql2.js').default },
  { name: 'ioredis', modules: ['ioredis'], load: () => require('./redis/ioredis.js').default },
  {
    name: 'redis',
    modules: ['@redis/client/dist/lib/commander.js', '@redis/client/dist/lib/client/index.js'],
    load: () => require('./redis/redis.js').default,
    subscribes: true,
  },
  { name: 'hapi', modules: ['@hapi/hapi/lib/request.js'], load: () => require('./frameworks/hapi.js').default },
  {
    name: 'graphql',
    modules: [
      'graphql/execution/execute.js',
      'graphql/language/parser.js',
      'graphql/validation/validate.js',
      '@graphql-tools/executor/cjs/execution/execute.js',
      '@graphql-tools/executor/esm/execution/execute.js',
    ],
    load: () => require('./graphql/graphql.js').default,
  },
  { name: 'pino', modules: ['pino/lib/tools.js'], load: () => require('./logs/pino.js').default },
  { name: 'winston', modules: ['winston/lib/winston/logger.js'], load: () => require('./logs/winston.js').default },
  { name: 'bunyan', modules: ['bunyan'], load: () => require('./logs/bunyan.js').default },
  { name: 'grpc', modules: ['@grpc/grpc-js/build/src/client.js', '@grpc/grpc-js/build/src/server.js'], load: () => require('./grpc/grpc-js.js').default },
];
