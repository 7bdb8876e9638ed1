// Redis GETs per second with the agent's Redis instrumentation off and on, interleaved in one process
// (rounds alternate so drift hits both alike), always inside an active sampled span, as in a request.
// ioredis 6 (patched) and node-redis 6 (diagnostics_channel), against the test Redis of
// scripts/setup-test-env.sh. For node-redis, a third mode subscribes a do-nothing listener to the
// library's own events: the part of the cost that is the library publishing, not the agent.
// Run: npm run build && node benchmarks/db/redis.mjs [rounds=6] [seconds=1] [concurrency=1,16]
import { createRequire } from 'node:module';
import dc from 'node:diagnostics_channel';
const require = createRequire(import.meta.url);
const { Tracer } = require('../../dist/src/index.js');
const { log } = require('../../dist/src/util/log.js');
const { wrapMethod, unwrapMethod } = require('../../dist/src/agent/wrap.js');
const ioredisInstrumentation = require('../../dist/instrumentations/redis/ioredis.js').default;
const redisInstrumentation = require('../../dist/instrumentations/redis/redis.js').default;
const Redis = require('ioredis6');
const { createClient } = require('redis6');

const [rounds = 6, seconds = 1] = process.argv.slice(2, 4).map(Number);
const concurrencies = (process.argv[4] ?? '1,16').split(',').map(Number);
const port = Number(process.env.TEST_REDIS_PORT ?? 63799);
const password = 'acme-redis-pass';

// Counts finished spans, so the run shows the traced rounds really made one span per GET.
let finishedSpans = 0;
const counting = { onEnd() { finishedSpans++; }, forceFlush: async () => {}, shutdown: async () => {} };
const tracer = new Tracer({ processor: counting });
let subscriptions = [];
const ctx = {
  tracer,
  config: {},
  log,
  moduleVersion: '',
  wrap: (target, name, wrapper) => wrapMethod(target, name, wrapper),
  unwrap: (target, name) => unwrapMethod(target, name),
  subscribe(channel, onMessage) {
    dc.subscribe(channel, onMessage);
    subscriptions.push([channel, onMessage]);
  },
};

const key = `bench:${process.pid}`;
const ioredis = new Redis({ host: '127.0.0.1', port, password });
const nodeRedis = createClient({ socket: { host: '127.0.0.1', port }, password });
await nodeRedis.connect();
await ioredis.set(key, 'x'.repeat(64));

const clients = {
  ioredis: {
    get: () => ioredis.get(key),
    on: () => ioredisInstrumentation.patch(Redis, { ...ctx, moduleVersion: require('ioredis6/package.json').version }, ioredisInstrumentation.modules[0]),
    off: () => ioredisInstrumentation.unpatch(Redis, ctx, ioredisInstrumentation.modules[0]),
  },
  redis: {
    get: () => nodeRedis.get(key),
    // @redis/client publishes only when someone listens: this is its own cost of publishing, with a
    // subscriber that does nothing, to tell it from ours.
    publishOnly: {
      get: () => nodeRedis.get(key),
      on: () => {
        for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) ctx.subscribe(`tracing:node-redis:command:${event}`, () => {});
      },
      off: () => clients.redis.off(),
    },
    on: () => redisInstrumentation.start(ctx),
    off: () => {
      redisInstrumentation.stop();
      for (const [channel, onMessage] of subscriptions) dc.unsubscribe(channel, onMessage);
      subscriptions = [];
    },
  },
};

async function round(client, traced, concurrency) {
  if (traced) client.on();
  const result = await measureRound(client, concurrency);
  if (traced) client.off();
  return result;
}

async function measureRound(client, concurrency) {
  const spansBefore = finishedSpans;
  const cpuBefore = process.cpuUsage();
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const parent = tracer.startSpan('request');
  const scope = tracer.scopeManager.activate(parent, false);
  const worker = async () => {
    while (performance.now() < until) {
      await client.get();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  scope.close();
  parent.finish();
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time per GET is steadier than throughput on a shared machine: other processes' load moves it less.
  return { perSecond: done / seconds, cpuMicros: (cpu.user + cpu.system) / done, spans: finishedSpans - spansBefore - 1, done };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, client] of Object.entries(clients)) {
  for (const concurrency of concurrencies) {
    await round(client, false, concurrency); // warm-up, both paths
    await round(client, true, concurrency);
    const off = [];
    const on = [];
    const cpuOff = [];
    const cpuOn = [];
    const cpuPublish = [];
    let spanCheck = '';
    for (let r = 0; r < rounds; r++) {
      const plain = await round(client, false, concurrency);
      off.push(plain.perSecond);
      cpuOff.push(plain.cpuMicros);
      const traced = await round(client, true, concurrency);
      on.push(traced.perSecond);
      cpuOn.push(traced.cpuMicros);
      if (client.publishOnly !== undefined) cpuPublish.push((await round(client.publishOnly, true, concurrency)).cpuMicros);
      if (traced.spans !== traced.done) spanCheck = ` (spans ${traced.spans} ≠ GETs ${traced.done})`;
    }
    const ratio = median(on) / median(off);
    rows.push({
      client: name,
      concurrency,
      'GET/s off': Math.round(median(off)),
      'GET/s on': Math.round(median(on)),
      ratio: ratio.toFixed(3) + spanCheck,
      'CPU µs/GET off': median(cpuOff).toFixed(1),
      'CPU µs/GET on': median(cpuOn).toFixed(1),
      'CPU µs/GET library events only': cpuPublish.length > 0 ? median(cpuPublish).toFixed(1) : '-',
    });
  }
}
await ioredis.del(key);
ioredis.disconnect();
await nodeRedis.close();
console.log(`node ${process.version}, ${rounds} interleaved rounds of ${seconds}s, medians`);
console.table(rows);
