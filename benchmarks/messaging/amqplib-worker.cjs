// One measured run for amqplib.mjs: publish+consume round trips over one connection, `CONCURRENCY`
// messages in flight (each consumed message is acked and the next one published from the consumer
// callback), for `SECONDS` after a warm-up. Prints one JSON line: round trips, seconds, CPU µs.
// Started with or without `--import register.mjs` by amqplib.mjs; never run it by hand.
'use strict';
const path = require('node:path');

// Through the test fixture's symlink (node_modules/amqplib → the amqplib2 alias), with
// --preserve-symlinks, so the agent sees the package by its real name as in a user's app.
const amqp = require(path.join(__dirname, '..', '..', 'test', 'integration', 'messaging', 'fixtures', 'amqplib2', 'node_modules', 'amqplib'));

const url = process.env.AMQP_URL;
const seconds = Number(process.env.SECONDS ?? 2);
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const body = Buffer.alloc(256, 120);

async function main() {
  // Without noDelay, Nagle's algorithm and delayed ACKs hold each small frame for ~40 ms: the
  // benchmark would measure TCP timers, not the client.
  const connection = await amqp.connect(url, { noDelay: true });
  const channel = await connection.createChannel();
  await channel.prefetch(concurrency * 2);
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  let count = 0;
  let measuring = false;
  let stopping = false;
  await channel.consume(queue, (message) => {
    channel.ack(message);
    if (measuring) count++;
    if (!stopping) channel.sendToQueue(queue, body, { messageId: 'bench', headers: { 'x-app': 'bench' } });
  });
  for (let i = 0; i < concurrency; i++) channel.sendToQueue(queue, body, { messageId: 'bench' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  stopping = true;
  process.stdout.write(`${JSON.stringify({ roundTrips: count, seconds: elapsed, cpuUs: cpu.user + cpu.system })}\n`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await connection.close();
}

// IN_SPAN=1 runs the loop inside an active span, as in an app whose requests are traced: Node's
// async context tracking is then on whether or not amqplib is instrumented, so the difference
// between the agent with amqplib off and on is the instrumentation's own cost.
const run = process.env.IN_SPAN === '1'
  ? () => require(path.join(__dirname, '..', '..', 'dist', 'src', 'index.js')).globalTracer().startActiveSpan('bench', () => main())
  : main;
run().catch((err) => {
  process.stderr.write(`bench worker failed: ${err.stack}\n`);
  process.exit(1);
});
