import type { RegistryEntry } from '../src/agent/instrumentation.js';

/**
 * Every instrumentation the agent ships, one line each: its declaration (the only place its name,
 * modules, version ranges and kind are written) and how to load its code. The loader's hooks, the
 * names the configuration accepts and the `config` command's table are derived from these lines;
 * `load` runs only when one of the modules loads (`patch`) or when the agent starts (`subscribe`).
 * Adding an instrumentation is one file plus one line here (docs/architecture.md).
 */
// `esModule: false` (koa, pg-pool): the package's ES-module entry only re-exports its CommonJS code, which
// the loader patches without an import hook (see ModuleTarget.esModule).
// The channels whose first message loads a subscriber (RegistryEntry.channels): the one each traced call publishes
// on first, before any other of that call's (undici's request `create`, for npm undici and Node's global fetch;
// node-redis's tracing `start`s); started, the instrumentation subscribes to the rest itself. Only these exist at
// start: each channel subscribed is a channel object, its subscriber list and a stand-in (the 14 of every event
// were ~20 KB of every start's young generation).
const UNDICI_CHANNELS = ['undici:request:create'];
const REDIS_CHANNELS = ['tracing:node-redis:command:start', 'tracing:node-redis:batch:start'];

export const instrumentations: readonly RegistryEntry[] = [
  { name: 'http', kind: 'patch', modules: [{ name: 'http', versions: '*' }], load: () => require('./http/http.js').default },
  { name: 'https', kind: 'patch', modules: [{ name: 'https', versions: '*' }], load: () => require('./http/https.js').default },
  { name: 'undici', kind: 'patch+subscribe', modules: [{ name: 'undici', versions: '>=5', file: 'lib/api/api-request.js' }], channels: UNDICI_CHANNELS, load: () => require('./undici/undici.js').default },
  { name: 'fetch', kind: 'subscribe', modules: [{ name: 'fetch', versions: '*', reportOnly: true }], channels: UNDICI_CHANNELS, load: () => require('./undici/fetch.js').default },
  { name: 'express', kind: 'patch', modules: [{ name: 'express', versions: '>=4 <6' }], load: () => require('./frameworks/express.js').default },
  { name: 'fastify', kind: 'patch', modules: [{ name: 'fastify', versions: '>=4 <6' }], load: () => require('./frameworks/fastify.js').default },
  { name: 'koa', kind: 'patch', modules: [{ name: 'koa', versions: '>=2 <4', esModule: false }, { name: '@koa/router', versions: '*', reportOnly: true }], load: () => require('./frameworks/koa.js').default },
  { name: 'hapi', kind: 'patch', modules: [{ name: '@hapi/hapi', versions: '>=21 <22', file: 'lib/request.js' }], load: () => require('./frameworks/hapi.js').default },
  { name: 'pg', kind: 'patch', modules: [{ name: 'pg', versions: '>=8 <9', file: 'lib/client.js' }, { name: 'pg-pool', versions: '>=3 <4', esModule: false }], load: () => require('./sql/pg.js').default },
  { name: 'mysql2', kind: 'patch', modules: [{ name: 'mysql2', versions: '>=3 <4', file: 'lib/connection.js' }, { name: 'mysql2', versions: '>=3 <4', file: 'lib/pool.js' }], load: () => require('./sql/mysql2.js').default },
  { name: 'ioredis', kind: 'patch', modules: [{ name: 'ioredis', versions: '>=5 <7' }], load: () => require('./redis/ioredis.js').default },
  // Every @redis/client is claimed: >= 5.12 publishes on diagnostics_channel (subscribed), older ones are patched.
  { name: 'redis', kind: 'patch+subscribe', modules: [{ name: '@redis/client', versions: '>=1', file: 'dist/lib/commander.js' }, { name: '@redis/client', versions: '>=1', file: 'dist/lib/client/index.js' }], channels: REDIS_CHANNELS, load: () => require('./redis/redis.js').default },
  {
    name: 'graphql',
    kind: 'patch',
    modules: [
      { name: 'graphql', versions: '>=15 <17', file: 'execution/execute.js' },
      { name: 'graphql', versions: '>=15 <17', file: 'language/parser.js' },
      { name: 'graphql', versions: '>=15 <17', file: 'validation/validate.js' },
      { name: '@graphql-tools/executor', versions: '>=1 <3', file: 'cjs/execution/execute.js' },
      { name: '@graphql-tools/executor', versions: '>=1 <3', file: 'esm/execution/execute.js' },
    ],
    load: () => require('./graphql/graphql.js').default,
  },
  { name: 'pino', kind: 'patch', modules: [{ name: 'pino', versions: '>=7 <11', file: 'lib/tools.js' }], load: () => require('./logs/pino.js').default },
  { name: 'winston', kind: 'patch', modules: [{ name: 'winston', versions: '>=3 <4', file: 'lib/winston/logger.js' }], load: () => require('./logs/winston.js').default },
  { name: 'bunyan', kind: 'patch', modules: [{ name: 'bunyan', versions: '>=1 <2' }], load: () => require('./logs/bunyan.js').default },
  { name: 'grpc', kind: 'patch', modules: [{ name: '@grpc/grpc-js', versions: '>=1.8 <2', file: 'build/src/client.js' }, { name: '@grpc/grpc-js', versions: '>=1.8 <2', file: 'build/src/server.js' }], load: () => require('./grpc/grpc-js.js').default },
  {
    name: 'amqplib',
    kind: 'patch',
    modules: [
      { name: 'amqplib', versions: '>=0.10 <3', file: 'lib/channel.js' },
      { name: 'amqplib', versions: '>=0.10 <3', file: 'lib/channel_model.js' },
      { name: 'amqplib', versions: '>=0.10 <3', file: 'lib/callback_model.js' },
      { name: 'amqplib', versions: '>=0.10 <3', file: 'lib/connect.js' },
    ],
    load: () => require('./messaging/amqplib.js').default,
  },
  { name: 'opentracing', kind: 'patch', modules: [{ name: 'opentracing', versions: '>=0.13.0 <1' }], load: () => require('./opentracing/opentracing.js').default },
  {
    name: 'opentelemetry',
    kind: 'patch',
    modules: [
      { name: '@opentelemetry/api', versions: '>=1.0.0 <2' },
      // Next.js ships the API compiled into itself and uses it when the app has no @opentelemetry/api.
      { name: 'next', versions: '>=13.4.0', file: 'dist/compiled/@opentelemetry/api/index.js' },
    ],
    // Loaded first by an OpenTelemetry SDK or agent started before ours, which then stays in charge.
    quietIfPreloaded: true,
    load: () => require('./opentelemetry/api.js').default,
  },
];
