import t from 'tap';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { rabbitmq, requireServer } from '../../helpers/db-servers.js';
import { startApp, type FixtureApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

// The amqplib suite. Zero-code: a producing app and a consuming app, each its own process under
// `--import register.mjs`, once as .cjs and once as .mjs, against the real RabbitMQ of
// scripts/setup-test-env.sh, exporting OTLP to an in-test collector. The consumer calls a downstream
// server of this test for every message, so the header it receives shows which trace reached it.
// Each amqplib major is installed side by side (npm aliases) and symlinked into its fixture folder.

export const FIXTURES = path.join(ROOT, 'test', 'integration', 'messaging', 'fixtures');

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

interface Downstream {
  port: number;
  calls: { id: string; redelivered: string; user: string; traceparent: string }[];
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

function startDownstream(): Promise<Downstream> {
  const calls: Downstream['calls'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({
      id: url.searchParams.get('id') ?? '',
      redelivered: url.searchParams.get('redelivered') ?? '',
      user: url.searchParams.get('user') ?? '',
      traceparent: String(req.headers.traceparent ?? ''),
    });
    res.end('ok');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        calls,
        async waitFor(count, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          while (calls.length < count) {
            if (Date.now() > deadline) throw new Error(`downstream got ${calls.length} of ${count} calls: ${JSON.stringify(calls.map((c) => c.id))}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

/** Publishes to `queue` with a plain amqplib (this test process runs no agent): a message from outside. */
async function publishWithoutAgent(pkg: string, queue: string, id: string, secret: string): Promise<void> {
  const amqp = require(path.join(ROOT, 'node_modules', pkg)) as typeof import('amqplib');
  const connection = await amqp.connect(rabbitmq.url);
  const channel = await connection.createConfirmChannel();
  channel.sendToQueue(queue, Buffer.from(`${secret}:${id}`), { headers: { 'x-id': id, 'x-action': 'ack', 'x-user': 'keep-me' } });
  await channel.waitForConfirms();
  await connection.close();
}

function byUrl(spans: readonly ReceivedSpan[], kind: number, part: string): ReceivedSpan[] {
  return spans.filter((s) => s.kind === kind && String(s.attributes['http.url']).includes(part));
}

function childrenOf(spans: readonly ReceivedSpan[], parent: ReceivedSpan | undefined, kind: number): ReceivedSpan[] {
  return spans.filter((s) => parent !== undefined && s.kind === kind && s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
}

/** Registers the whole scenario for one amqplib major, as a CommonJS and as an ES-module app pair. */
export function amqplibSuite(folder: string, pkg: string): void {
  t.before(() => requireServer('RabbitMQ', rabbitmq.port));

  for (const ext of ['cjs', 'mjs']) {
    t.test(`${folder} ${ext}: request → publish → consumer process → downstream call, one trace each`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const downstream = await startDownstream();
      t.teardown(() => downstream.close());
      const queue = `tracing-test-${randomBytes(6).toString('hex')}`;
      const secret = `secret-body-${randomBytes(8).toString('hex')}`;
      const env = {
        TRACING_EXPORTER: 'otlp',
        TRACING_ENDPOINT: collector.otlpUrl,
        TRACING_BATCH_DELAY_MS: '50',
        AMQP_URL: rabbitmq.url,
        AMQP_QUEUE: queue,
        AMQP_SECRET: secret,
        AMQP_PREFETCH: '10',
        DOWNSTREAM_PORT: String(downstream.port),
      };
      const consumer: FixtureApp = await startApp(path.join(FIXTURES, folder, `consumer.${ext}`), { preserveSymlinks: true, env: { ...env, TRACING_SERVICE_NAME: 'amqp-consumer' } });
      const producer: FixtureApp = await startApp(path.join(FIXTURES, folder, `producer.${ext}`), { preserveSymlinks: true, env: { ...env, TRACING_SERVICE_NAME: 'amqp-producer' } });

      // Three concurrent requests, two messages each, handled together by one consumer (prefetch 10).
      const concurrent = await Promise.all(['p1', 'p2', 'p3'].map((id) => producer.get(`/publish?id=${id}&n=2`)));
      const confirmCallback = await producer.get('/publish?id=c1&api=callback&confirm=1');
      const confirmPromise = await producer.get('/publish?id=c2&confirm=1');
      const nacked = await producer.get('/publish?id=q1&action=nack');
      const rejected = await producer.get('/publish?id=r1&api=callback&action=reject');
      await publishWithoutAgent(pkg, queue, 'foreign', secret);
      await producer.get('/get-seed?id=g1');
      let got = { id: null as string | null };
      for (let i = 0; i < 40 && got.id === null; i++) {
        got = JSON.parse((await consumer.get('/get')).body) as { id: string | null };
        if (got.id === null) await new Promise((r) => setTimeout(r, 25));
      }
      await downstream.waitFor(12, 15_000);
      const stats = JSON.parse((await consumer.get('/stats')).body) as { maxInFlight: number };
      await producer.stop();
      await consumer.stop();
      const [producerErr, consumerErr] = [producer.stderr, consumer.stderr];
      t.equal(producerErr, '', 'the producer writes nothing to stderr');
      t.equal(consumerErr, '', 'the consumer writes nothing to stderr');

      for (const reply of [...concurrent, confirmCallback, confirmPromise, nacked, rejected]) {
        t.equal(reply.status, 200, reply.body);
        for (const r of JSON.parse(reply.body) as { unchanged: boolean }[]) t.ok(r.unchanged, "the app's headers object is not changed");
      }
      t.same(JSON.parse(confirmCallback.body), [{ unchanged: true, confirmed: true }], 'confirm callbacks still run');
      t.equal(got.id, 'g1', 'get returns the message');
      t.ok(stats.maxInFlight > 1, `messages of several traces were handled at once (max ${stats.maxInFlight})`);
      t.ok(downstream.calls.every((c) => c.user === 'keep-me'), "the consumer gets the app's own headers");

      const spans = collector.spans;
      const traceOf = (id: string) => {
        const server = byUrl(spans, SERVER, `/publish?id=${id}`)[0] ?? byUrl(spans, SERVER, `/get-seed?id=${id}`)[0];
        const producers = childrenOf(spans, server, PRODUCER);
        const consumers = producers.flatMap((p) => childrenOf(spans, p, CONSUMER));
        const clients = consumers.flatMap((c) => childrenOf(spans, c, CLIENT));
        return { server, producers, consumers, clients };
      };

      for (const id of ['p1', 'p2', 'p3']) {
        const tr = traceOf(id);
        t.ok(tr.server, `${id}: the request's server span`);
        t.equal(tr.producers.length, 2, `${id}: one producer span per message, children of the request`);
        t.equal(tr.consumers.length, 2, `${id}: each message's consumer span (other process) is a child of its producer span`);
        t.equal(tr.clients.length, 2, `${id}: the consumer's downstream call is a child of the consumer span`);
        for (const p of tr.producers) {
          t.equal(p.name, `publish ${queue}`);
          t.equal(p.resource['service.name'], 'amqp-producer');
          t.equal(p.attributes['messaging.system'], 'rabbitmq');
          t.equal(p.attributes['messaging.operation.type'], 'send');
          t.equal(p.attributes['messaging.destination.name'], '', 'the default exchange');
          t.equal(p.attributes['messaging.rabbitmq.destination.routing_key'], queue);
          t.equal(p.attributes['messaging.message.conversation_id'], `corr-${id}`);
          t.match(p.attributes['messaging.message.id'], new RegExp(`^msg-${id}-[01]$`));
          t.equal(p.attributes['messaging.message.body.size'], `${secret}:${id}:0`.length);
          t.equal(p.attributes['peer.hostname'], '127.0.0.1');
          t.equal(p.attributes['peer.port'], rabbitmq.port);
        }
        for (const c of tr.consumers) {
          t.equal(c.name, `process ${queue}`);
          t.equal(c.resource['service.name'], 'amqp-consumer');
          t.equal(c.attributes['messaging.operation.type'], 'process');
          t.equal(c.attributes['messaging.destination.subscription.name'], queue);
          t.equal(c.attributes['messaging.rabbitmq.outcome'], 'ack', 'ended at ack');
          t.type(c.attributes['messaging.rabbitmq.message.delivery_tag'], 'number');
          const client = childrenOf(spans, c, CLIENT)[0];
          t.ok(BigInt(c.endTimeUnixNano) >= BigInt(client?.endTimeUnixNano ?? '0'), 'the consumer span lasts until the ack, after the callback\'s work');
        }
        const calls = downstream.calls.filter((call) => call.id === id);
        t.same(calls.map((call) => call.traceparent.split('-')[2]).sort(), tr.clients.map((c) => c.spanId).sort(),
          `${id}: the downstream server got the consumer's client spans as parents`);
        t.ok(calls.every((call) => call.traceparent.split('-')[1] === tr.server?.traceId), `${id}: in the request's trace`);
      }

      for (const id of ['c1', 'c2']) {
        const tr = traceOf(id);
        t.equal(tr.producers.length, 1, `${id}: confirm channel publish`);
        t.equal(tr.producers[0]?.attributes['messaging.rabbitmq.confirm'], 'ack', `${id}: the producer span waits for the broker's confirm`);
        t.equal(tr.consumers.length, 1);
        t.equal(tr.clients.length, 1);
      }

      const nack = traceOf('q1');
      t.equal(nack.consumers.length, 2, 'a nacked, requeued message is consumed twice, both under its producer span');
      const first = nack.consumers.find((c) => c.attributes['messaging.rabbitmq.redelivered'] === undefined);
      const second = nack.consumers.find((c) => c.attributes['messaging.rabbitmq.redelivered'] === true);
      t.equal(first?.attributes['messaging.rabbitmq.outcome'], 'nack');
      t.equal(first?.attributes['messaging.rabbitmq.requeue'], true);
      t.equal(second?.attributes['messaging.rabbitmq.outcome'], 'ack');

      const reject = traceOf('r1');
      t.equal(reject.consumers.length, 1);
      t.equal(reject.consumers[0]?.attributes['messaging.rabbitmq.outcome'], 'reject', 'callback API: reject recorded');
      t.equal(reject.consumers[0]?.attributes['messaging.rabbitmq.requeue'], false);

      const foreignCall = downstream.calls.find((call) => call.id === 'foreign');
      const foreignClient = spans.find((s) => s.kind === CLIENT && s.spanId === foreignCall?.traceparent.split('-')[2]);
      const foreignConsumer = spans.find((s) => s.spanId === foreignClient?.parentSpanId);
      t.equal(foreignConsumer?.kind, CONSUMER, 'a message from a client without the agent is processed in a consumer span');
      t.equal(foreignConsumer?.parentSpanId, '', 'which starts a new trace');
      t.notOk(spans.some((s) => s.traceId === foreignConsumer?.traceId && s.kind === SERVER), 'not the trace of any request');

      const getTrace = traceOf('g1');
      const receive = spans.find((s) => s.kind === CONSUMER && s.parentSpanId === getTrace.producers[0]?.spanId);
      t.equal(receive?.name, `receive ${queue}-get`, 'get makes a consumer span, child of the producer span');
      t.equal(receive?.attributes['messaging.operation.type'], 'receive');
      t.equal(receive?.attributes['messaging.rabbitmq.outcome'], 'ack');

      const exported = Buffer.concat(collector.bodies).toString('latin1');
      t.ok(exported.length > 0);
      t.notOk(exported.includes(secret), 'no message body ever reaches the exported bytes');
      t.equal(collector.decodeErrors.length, 0);
    });
  }
}

/** Starts the one-process edge app of `folder` and runs `routes` in order; returns the replies and the spans. */
async function runEdge(folder: string, ext: string, routes: readonly string[], extra: NodeJS.ProcessEnv = {}) {
  const collector = await Collector.start();
  const downstream = await startDownstream();
  const queue = `tracing-test-${randomBytes(6).toString('hex')}`;
  const secret = `secret-body-${randomBytes(8).toString('hex')}`;
  try {
    const app = await startApp(path.join(FIXTURES, folder, `edge.${ext}`), {
      preserveSymlinks: true,
      env: {
        TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50',
        AMQP_URL: rabbitmq.url, AMQP_QUEUE: queue, AMQP_SECRET: secret, DOWNSTREAM_PORT: String(downstream.port), ...extra,
      },
    });
    const replies: Record<string, { status: number; body: any }> = {};
    for (const route of routes) {
      const reply = await app.get(route);
      replies[route] = { status: reply.status, body: reply.status === 200 ? JSON.parse(reply.body) : reply.body };
    }
    await app.stop();
    return { replies, stderr: app.stderr, spans: [...collector.spans], exported: Buffer.concat(collector.bodies).toString('latin1'), queue, secret };
  } finally {
    await collector.close();
    await downstream.close();
  }
}

/** The cases one process shows: broker nack, allUpTo/nackAll, broker close, noAck, bad headers, untraced publishes, opt-out. */
export function amqplibEdgeSuite(folder: string): void {
  t.before(() => requireServer('RabbitMQ', rabbitmq.port));

  for (const ext of ['cjs', 'mjs']) {
    t.test(`${folder} ${ext}: nacks, settlements, closes and bad headers are recorded`, async (t) => {
      const routes = ['/broker-nack', '/all-up-to', '/broker-close', '/no-ack', '/malformed', '/headers', '/callback-get', '/outside'];
      const { replies, stderr, spans, exported, queue, secret } = await runEdge(folder, ext, routes);
      t.equal(stderr, '', 'nothing on stderr');
      for (const route of routes) t.equal(replies[route]?.status, 200, `${route} answers: ${JSON.stringify(replies[route]?.body)}`);
      const under = (route: string) => {
        const server = byUrl(spans, SERVER, route)[0];
        return spans.filter((s) => s.traceId === server?.traceId && s !== server);
      };

      t.equal(replies['/broker-nack']?.body.nacked, 'message nacked', 'the app gets the nack as before');
      const nacked = under('/broker-nack').find((s) => s.kind === PRODUCER);
      t.equal(nacked?.attributes['messaging.rabbitmq.confirm'], 'nack', 'a publish the broker nacks');
      t.equal(nacked?.status.code, 2, 'is an error');

      const allUpTo = under('/all-up-to').filter((s) => s.kind === CONSUMER);
      t.same(allUpTo.filter((s) => s.name === `process ${queue}-all`).map((s) => s.attributes['messaging.rabbitmq.outcome']), ['ack', 'ack', 'ack'],
        'ack(message, allUpTo) ends every earlier message');
      const nackAll = allUpTo.filter((s) => s.name === `process ${queue}-nackall`);
      t.same(nackAll.map((s) => s.attributes['messaging.rabbitmq.outcome']), ['nack', 'nack'], 'nackAll ends them all');
      t.ok(nackAll.every((s) => s.attributes['messaging.rabbitmq.requeue'] === false));

      t.equal(replies['/broker-close']?.body.code, 404);
      const doomed = under('/broker-close').find((s) => s.kind === CONSUMER);
      t.equal(doomed?.attributes['messaging.rabbitmq.outcome'], 'channel_closed', 'an unacked message ends with its channel');
      t.equal(doomed?.attributes['messaging.rabbitmq.reply_code'], 404, 'with the broker\'s reason');
      t.equal(doomed?.status.code, 2);

      const noAck = under('/no-ack').find((s) => s.kind === CONSUMER);
      t.equal(noAck?.attributes['messaging.rabbitmq.outcome'], 'auto_ack');
      t.ok(Number(BigInt(noAck?.endTimeUnixNano ?? '0') - BigInt(noAck?.startTimeUnixNano ?? '0')) / 1e6 >= 45,
        'with noAck the span lasts until the async callback settles');

      t.equal(replies['/malformed']?.body.traceparent, '00-zzzz-not-a-context', "the app's own traceparent is never overwritten");
      const malformed = spans.find((s) => s.kind === CONSUMER && s.name === `process ${queue}-malformed`);
      t.equal(malformed?.parentSpanId, '', 'a malformed context starts a new trace');
      t.not(malformed?.traceId, byUrl(spans, SERVER, '/malformed')[0]?.traceId);

      t.ok(replies['/headers']?.body.headers.includes('traceparent'), 'the context travels in the headers');
      t.ok(replies['/headers']?.body.headers.includes('x-app'), "beside the app's own");

      t.same(replies['/callback-get']?.body, { got: true });
      const cbGetProducer = under('/callback-get').find((s) => s.kind === PRODUCER);
      const cbGet = spans.find((s) => s.kind === CONSUMER && s.parentSpanId === cbGetProducer?.spanId);
      t.equal(cbGet?.name, `receive ${queue}-cbget`, 'callback API get: a consumer span, child of the producer span');
      t.equal(cbGet?.attributes['messaging.rabbitmq.outcome'], 'ack');
      t.ok(spans.some((s) => s.kind === CLIENT && s.parentSpanId === cbGet?.spanId), 'its callback runs in it: the call it makes on a later tick is a child');

      t.equal(replies['/outside']?.body.id, 'outside');
      t.notOk(spans.some((s) => s.kind === PRODUCER && s.name === `publish ${queue}-outside`), 'a publish outside any trace makes no span by default');
      t.equal(spans.find((s) => s.kind === CONSUMER && s.name === `process ${queue}-outside`)?.parentSpanId, '', 'its consumer starts the trace');

      t.notOk(exported.includes(secret), 'no message body ever reaches the exported bytes');
    });
  }

}

/** The settings (root spans, propagation formats, opt-out): read by code that does not depend on the amqplib version. */
export function amqplibSettingsSuite(folder: string): void {
  t.before(() => requireServer('RabbitMQ', rabbitmq.port));

  t.test(`${folder}: TRACING_MESSAGING_ROOT_SPANS=true makes a publish outside any trace start one`, async (t) => {
    const { replies, spans, queue } = await runEdge(folder, 'cjs', ['/outside'], { TRACING_MESSAGING_ROOT_SPANS: 'true' });
    t.equal(replies['/outside']?.status, 200);
    const producer = spans.find((s) => s.kind === PRODUCER && s.name === `publish ${queue}-outside`);
    t.equal(producer?.parentSpanId, '', 'a root producer span');
    t.equal(spans.find((s) => s.kind === CONSUMER && s.name === `process ${queue}-outside`)?.parentSpanId, producer?.spanId, 'continued by its consumer');
  });

  t.test(`${folder}: every configured propagation format goes into the headers`, async (t) => {
    const { replies, stderr } = await runEdge(folder, 'cjs', ['/headers'], { TRACING_PROPAGATION: 'tracecontext,b3multi,jaeger' });
    t.equal(stderr, '');
    const headers = replies['/headers']?.body.headers as string[];
    for (const name of ['traceparent', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'uber-trace-id', 'x-app']) t.ok(headers.includes(name), name);
  });

  t.test(`${folder}: TRACING_DISABLED_INSTRUMENTATIONS=amqplib switches it off`, async (t) => {
    const { replies, spans, stderr } = await runEdge(folder, 'cjs', ['/headers'], { TRACING_DISABLED_INSTRUMENTATIONS: 'amqplib' });
    t.equal(stderr, '');
    t.same(replies['/headers']?.body.headers, ['x-app'], 'no header added');
    t.notOk(spans.some((s) => s.attributes.component === 'amqplib'), 'no messaging span');
    t.ok(spans.some((s) => s.kind === SERVER), 'the rest is still traced');
  });
}
