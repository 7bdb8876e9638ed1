// Redis GETs per second with the agent's Redis instrumentation off and on, interleaved in one process
// (rounds alternate so drift hits both alike), always inside an active sampled span, as in a request.
// ioredis 6 (patched) and node-redis 6 (diagnostics_channel), against the test Redis of
// scripts/setup-test-env.sh. For node-redis, a third mode subscribes a do-nothing listener to the
// library's own events: the part of the cost that is the library publishing, not the agent.
// Run: npm run build && node benchmarks/db/redis.mjs [rounds=6] [seconds=1] [concurrency=1,16]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Tracer } = require('../../dist/src/index.js');
const { InstrumentationRun, buildAgentSettings } = require('../../dist/src/agent/kit.js');
const { defaultConfig } = require('../../dist/src/config/load.js');
const { instrumentations } = require('../../dist/instrumentations/index.js');
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
// Each instrumentation run as the loader runs it: same context builder, same undo.
const runtime = { tracer, settings: buildAgentSettings(defaultConfig()) };
const declared = (name) => instrumentations.find((d) => d.name === name);
const ioredisRun = new InstrumentationRun('ioredis', declared('ioredis').load(), runtime);
const redisRun = new InstrumentationRun('redis', declared('redis').load(), runtime);
const publishOnlyRun = new InstrumentationRun('publish-only', {}, runtime);

const key = `bench:${process.pid}`;
const ioredis = new Redis({ host: '127.0.0.1', port, password });
const nodeRedis = createClient({ socket: { host: '127.0.0.1', port }, password });
await nodeRedis.connect();
await ioredis.set(key, 'x'.repeat(64));

const clients = {
  ioredis: {
    get: () => ioredis.get(key),
    on: () => ioredisRun.code.patch(Redis, ioredisRun.context(require('ioredis6/package.json').version), declared('ioredis').modules[0]),
    off: () => ioredisRun.undo(),
  },
  redis: {
    get: () => nodeRedis.get(key),
    // @redis/client publishes only when someone listens: this is its own cost of publishing, with a
    // subscriber that does nothing, to tell it from ours.
    publishOnly: {
      get: () => nodeRedis.get(key),
      on: () => {
        const ctx = publishOnlyRun.context('');
        for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) ctx.subscribe(`tracing:node-redis:command:${event}`, () => {});
      },
      off: () => publishOnlyRun.undo(),
    },
    on: () => {
      require('../../dist/instrumentations/redis/channels.js').stopChannels();
      redisRun.code.start(redisRun.context(''));
    },
    off: () => redisRun.undo(),
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
