import { nodeRedisIdentity, redisSuite } from './suite.js';

// node-redis versions that publish no diagnostics_channel events, so the agent patches them:
// redis 4 (@redis/client 1.x) and 5.11, the last 5.x before the library's own events.
redisSuite([
  { folder: 'redis4', component: 'redis', subscribeSpans: false, publishes: false, identity: () => nodeRedisIdentity('redis4') },
  { folder: 'redis5-11', component: 'redis', subscribeSpans: false, publishes: false, identity: () => nodeRedisIdentity('redis5-11') },
]);
