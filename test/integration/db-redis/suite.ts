import t from 'tap';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { redis, requireServer } from '../../helpers/db-servers.js';
import { ROOT } from '../../helpers/run-node.js';
import { fixturePath, startApp } from '../../helpers/fixture-app.js';

// The shared Redis suite. Zero-code: each fixture app runs under `--import register.mjs`, once as
// .cjs and once as .mjs,
// against the real Redis of scripts/setup-test-env.sh, exporting OTLP to an in-test collector.
// Every client major is installed side by side (npm aliases) and symlinked into its fixture folder.
export interface Client {
  folder: string;
  component: 'ioredis' | 'redis';
  /** ioredis sends SUBSCRIBE as a command (one short span); node-redis keeps pub/sub to itself (none). */
  subscribeSpans: boolean;
  /**
   * Traced from the client's own diagnostics_channel events (@redis/client ≥ 5.12): the library
   * redacts what it publishes, so even `full` statements show `?` for values.
   */
  publishes: boolean;
  /** What the fixture's /identity route reports, read here from the same package without the agent. */
  identity(): Record<string, string>;
}

export function ioredisIdentity(pkg: string): Record<string, string> {
  const Redis = require(path.join(ROOT, 'node_modules', pkg));
  return { sendCommand: String(Redis.prototype.sendCommand), exec: String(Redis.Pipeline.prototype.exec) };
}

export function nodeRedisIdentity(pkg: string): Record<string, string> {
  const client = require(path.join(ROOT, 'node_modules', pkg)).createClient();
  return { sendCommand: String(client.sendCommand), batch: String(client.multiExecutor ?? client._executeMulti) };
}

const SERVER = 2;
const CLIENT = 3;
const DB = 3;

function appEnv(collector: Collector, prefix: string, secret: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    TRACING_EXPORTER: 'otlp',
    TRACING_ENDPOINT: collector.otlpUrl,
    TRACING_BATCH_DELAY_MS: '50',
    TRACING_SERVICE_NAME: 'redis-fixture',
    REDIS_PORT: String(redis.port),
    REDIS_PASSWORD: redis.password,
    REDIS_DB: String(DB),
    REDIS_PREFIX: prefix,
    REDIS_SECRET: secret,
    ...extra,
  };
}

function serverSpan(spans: readonly ReceivedSpan[], urlPath: string): ReceivedSpan | undefined {
  return spans.find((s) => s.kind === SERVER && String(s.attributes['http.url']).endsWith(urlPath));
}

function childrenOf(spans: readonly ReceivedSpan[], parent: ReceivedSpan | undefined): ReceivedSpan[] {
  return spans.filter((s) => parent !== undefined && s.parentSpanId === parent.spanId);
}

function fresh(): { prefix: string; secret: string } {
  return { prefix: `tracing-test:${randomBytes(6).toString('hex')}`, secret: `secret-${randomBytes(8).toString('hex')}` };
}

/** Registers every test for `clients`; each test file runs one client family, so files stay short. */
export function redisSuite(clients: readonly Client[]): void {
  t.before(() => requireServer('Redis', redis.port));

  for (const client of clients) {
    for (const file of ['app.cjs', 'app.mjs']) {
      t.test(`${client.folder} ${file}`, async (t) => {
        const collector = await Collector.start();
        t.teardown(() => collector.close());
        const { prefix, secret } = fresh();
        const app = await startApp(fixturePath('db-redis', client.folder, file), { preserveSymlinks: true, env: appEnv(collector, prefix, secret) });
        const work = await app.get('/work');
        const pubsub = await app.get('/pubsub');
        await app.stop();
        t.equal(work.status, 200, `the app answers as without the agent (${work.body} ${app.stderr})`);
        const result = JSON.parse(work.body) as { same: boolean; pipelined: number; multi: number; error: { name: string; constructor: string; message: string } };
        t.same(result.same, true, 'values read back by promise and by callback');
        t.equal(result.pipelined, 3);
        t.equal(result.multi, 2);
        t.match(result.error.constructor, /^(ReplyError|SimpleError|ErrorReply)$/, 'the app gets the client\'s own error');
        t.match(result.error.message, /not an integer/);
        t.equal(JSON.parse(pubsub.body).message, 'hello');
        const spans = await collector.waitForSpans(client.subscribeSpans ? 11 : 9, 5000);

        const server = serverSpan(spans, '/work');
        const commands = childrenOf(spans, server);
        t.same(commands.map((s) => s.name).sort(), ['GET', 'GET', 'INCR', 'MULTI', 'PIPELINE', 'SET'], 'one span per command, pipeline and multi, under the server span');
        for (const span of commands) {
          t.equal(span.kind, CLIENT, `${span.name} is a client span`);
          t.equal(span.attributes.component, client.component);
          t.equal(span.attributes['db.type'], 'redis');
          t.equal(span.attributes['db.instance'], DB, 'the db index');
          t.equal(span.attributes['peer.hostname'], '127.0.0.1');
          t.equal(span.attributes['peer.port'], redis.port);
        }
        const set = commands.find((s) => s.name === 'SET');
        t.equal(set?.attributes['db.statement'], `SET ${prefix}:secret`, 'the command and its key, not the value');
        const pipeline = commands.find((s) => s.name === 'PIPELINE');
        t.equal(pipeline?.attributes['db.redis.pipeline_length'], 3);
        t.equal(pipeline?.attributes['db.statement'], `SET ${prefix}:p1\nGET ${prefix}:p1\nINCR ${prefix}:counter`);
        const multi = commands.find((s) => s.name === 'MULTI');
        t.equal(multi?.attributes['db.redis.pipeline_length'], 2, 'MULTI and EXEC are not counted');
        const incr = commands.find((s) => s.name === 'INCR');
        t.equal(incr?.status.code, 2, 'the failed command fails its span');
        const exception = incr?.events.find((e) => e.name === 'exception');
        t.equal(exception?.attributes['exception.type'], result.error.name);
        t.equal(exception?.attributes['exception.message'], result.error.message, 'with the message the app got');
        t.not(commands.find((s) => s.name === 'GET')?.status.code, 2);

        const pubsubServer = serverSpan(spans, '/pubsub');
        t.same(childrenOf(spans, pubsubServer).map((s) => s.name).sort(), client.subscribeSpans ? ['PUBLISH', 'SUBSCRIBE', 'UNSUBSCRIBE'] : ['PUBLISH'],
          'a subscription is at most one finished span; the message received makes none');

        t.notOk(spans.some((s) => /^(AUTH|HELLO|INFO|CLIENT|SELECT)$/.test(s.name)), 'the connection handshake makes no span');
        t.notOk(spans.some((s) => String(s.attributes['db.statement']).endsWith(':outside')), 'a command outside any trace makes no span');
        const payload = JSON.stringify(spans);
        t.notOk(payload.includes(secret), 'a value never reaches the exported spans');
        t.notOk(payload.includes(redis.password), 'nor does the password');
      });
    }

    t.test(`${client.folder}: the app's answers, errors included, are the same without the agent`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const answers: string[] = [];
      for (const agent of [false, true]) {
        const { prefix, secret } = fresh();
        const app = await startApp(fixturePath('db-redis', client.folder, 'app.cjs'), { preserveSymlinks: true, env: appEnv(collector, prefix, secret), agent });
        const work = await app.get('/work');
        await app.stop();
        t.equal(work.status, 200, agent ? 'with the agent' : 'without the agent');
        answers.push(work.body);
      }
      t.same(JSON.parse(answers[1]!), JSON.parse(answers[0]!), 'same values, same error class, message and own properties');
    });

    t.test(`${client.folder} with TRACING_DB_ROOT_SPANS=true, TRACING_DB_STATEMENT=full and TRACING_PEER_SERVICES`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const { prefix, secret } = fresh();
      const app = await startApp(fixturePath('db-redis', client.folder, 'app.cjs'), {
        preserveSymlinks: true,
        env: appEnv(collector, prefix, secret, {
          TRACING_DB_ROOT_SPANS: 'true',
          TRACING_DB_STATEMENT: 'full',
          TRACING_PEER_SERVICES: `127.0.0.1:${redis.port}=session-cache`,
        }),
      });
      t.equal((await app.get('/work')).status, 200);
      await app.stop();
      const spans = await collector.waitForSpans(8, 5000);
      const outside = spans.find((s) => s.attributes['db.statement'] === `GET ${prefix}:outside`);
      t.ok(outside, 'a command outside any trace is a root span');
      t.equal(outside?.parentSpanId, '');
      t.notOk(spans.some((s) => /^(AUTH|HELLO|INFO|CLIENT|SELECT)$/.test(s.name)), 'the handshake still makes no span');
      const set = childrenOf(spans, serverSpan(spans, '/work')).find((s) => s.name === 'SET');
      if (client.publishes) t.equal(set?.attributes['db.statement'], `SET ${prefix}:secret ?`, 'full statements are what the client publishes');
      else t.equal(set?.attributes['db.statement'], `SET ${prefix}:secret ${secret}`, 'full statements carry the values');
      t.equal(set?.attributes['peer.service'], 'session-cache', 'peer.service from TRACING_PEER_SERVICES');
      t.notOk(JSON.stringify(spans).includes(redis.password), 'but never the password');
    });

    t.test(`${client.folder} with TRACING_DISABLED_INSTRUMENTATIONS=${client.component}`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const { prefix, secret } = fresh();
      const app = await startApp(fixturePath('db-redis', client.folder, 'app.mjs'), { preserveSymlinks: true, env: appEnv(collector, prefix, secret, { TRACING_DISABLED_INSTRUMENTATIONS: client.component }) });
      const work = await app.get('/work');
      const identity = await app.get('/identity');
      await app.stop();
      t.equal(work.status, 200);
      t.same(JSON.parse(identity.body), client.identity(), 'the client\'s functions are the unpatched ones');
      const spans = await collector.waitForSpans(2, 5000);
      t.same(childrenOf(spans, serverSpan(spans, '/work')), [], 'no Redis spans');
    });
  }
}
