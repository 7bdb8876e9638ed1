import { nodeRedisIdentity, redisSuite } from './suite.js';

// node-redis ≥ 5.12 (latest 5.x and 6.x): traced from the library's diagnostics_channel events.
redisSuite([
  { folder: 'redis5', component: 'redis', subscribeSpans: false, publishes: true, identity: () => nodeRedisIdentity('redis5') },
  { folder: 'redis6', component: 'redis', subscribeSpans: false, publishes: true, identity: () => nodeRedisIdentity('redis6') },
]);
