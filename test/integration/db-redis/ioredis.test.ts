import { ioredisIdentity, redisSuite } from './suite.js';

// ioredis 5 and 6, patched in every version.
redisSuite([
  { folder: 'ioredis5', component: 'ioredis', subscribeSpans: true, publishes: false, identity: () => ioredisIdentity('ioredis5') },
  { folder: 'ioredis6', component: 'ioredis', subscribeSpans: true, publishes: false, identity: () => ioredisIdentity('ioredis6') },
]);
