// Zero-code pg and mysql2 against real PostgreSQL and MariaDB: an http app whose routes query through
// pools created at start-up runs under `node --import register.mjs` (as .cjs and .mjs); the collector
// gets one trace per request with the query spans under the server span, safe statements and the
// right tags. Further runs: the raw exported payload never holds a secret from a literal or a bound
// parameter; TRACING_DB_STATEMENT=full with TRACING_DB_ROOT_SPANS=true; the opt-out.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { postgres, mysql, requireServer } from '../../helpers/db-servers.js';
import { fixturePath, send, startApp, type FixtureApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';
import { createDatabase, type TestDatabase } from './databases.js';
import { rawReceiver } from '../../helpers/raw-receiver.js';

const PARENT = '00f067aa0ba902b7';
const LITERAL_SECRET = `lit-${randomBytes(6).toString('hex')}`;
const PARAM_SECRET = `param-${randomBytes(6).toString('hex')}`;

interface Expected {
  /** Span names of the route's query spans, in start order. */
  names: string[];
  statements: string[];
}

interface Suite {
  label: string;
  driver: 'pg' | 'mysql2';
  /** Extra environment of every app run (the older mysql2 is an npm alias reached through symlinks). */
  env?: NodeJS.ProcessEnv;
  apps: [string, string];
  port: number;
  /** The routes every main run calls, and the query spans each makes. */
  routes: Record<string, Expected>;
  errorCode: string;
  /** The major.minor the app must report having loaded (mysql2 only). */
  version?: RegExp;
}

const suites: Suite[] = [
  {
    label: 'pg',
    driver: 'pg',
    apps: ['pg.cjs', 'pg.mjs'],
    port: postgres.port,
    errorCode: '42P01',
    routes: {
      '/callback': { names: ['SELECT users'], statements: ['SELECT id, name FROM users WHERE name <> ? AND name <> $1 ORDER BY id'] },
      '/promise': { names: ['SELECT users'], statements: ['SELECT count(*)::int AS n FROM users WHERE id > $1'] },
      '/stream': { names: ['SELECT users'], statements: ['SELECT id FROM users WHERE id > $1 ORDER BY id'] },
      '/submittable': { names: ['SELECT users'], statements: ['SELECT name FROM users ORDER BY id'] },
      '/error': { names: ['SELECT missing_table'], statements: ['SELECT * FROM missing_table WHERE id = ?'] },
      '/transaction': { names: ['BEGIN', 'INSERT orders', 'COMMIT'], statements: ['BEGIN', 'INSERT INTO orders (item, qty) VALUES ($1, $2)', 'COMMIT'] },
      '/prepared': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT name FROM users WHERE id = $1', 'SELECT name FROM users WHERE id = $1'] },
    },
  },
  {
    label: 'mysql2',
    driver: 'mysql2',
    apps: ['mysql.cjs', 'mysql.mjs'],
    version: /^3\.(2\d|[3-9]\d)\./,
    port: mysql.port,
    errorCode: 'ER_NO_SUCH_TABLE',
    routes: {
      '/callback': { names: ['SELECT users'], statements: ['SELECT id, name FROM users WHERE name <> ? AND name <> ? ORDER BY id'] },
      '/promise': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT count(*) AS n FROM users WHERE id > ?', 'SELECT name FROM users WHERE id = ?'] },
      '/stream': { names: ['SELECT users'], statements: ['SELECT id FROM users WHERE id > ? ORDER BY id'] },
      '/emitter': { names: ['SELECT users'], statements: ['SELECT name FROM users ORDER BY id'] },
      '/error': { names: ['SELECT missing_table'], statements: ['SELECT * FROM missing_table WHERE id = ?'] },
      '/transaction': { names: ['START', 'INSERT orders', 'COMMIT'], statements: ['START TRANSACTION', 'INSERT INTO orders (item, qty) VALUES (?, ?)', 'COMMIT'] },
      '/prepared': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT name FROM users WHERE id = ?', 'SELECT name FROM users WHERE id = ?'] },
      '/prepare': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT name FROM users WHERE id = ?', 'SELECT name FROM users WHERE id = ?'] },
    },
  },
  {
    // The last layout before mysql2 moved its classes into lib/base/ and published diagnostics channels.
    label: 'mysql2 3.9',
    driver: 'mysql2',
    apps: ['mysql2-3.9/mysql.cjs', 'mysql2-3.9/mysql.mjs'],
    env: { NODE_OPTIONS: '--preserve-symlinks --preserve-symlinks-main' },
    version: /^3\.9\./,
    port: mysql.port,
    errorCode: 'ER_NO_SUCH_TABLE',
    routes: {
      '/callback': { names: ['SELECT users'], statements: ['SELECT id, name FROM users WHERE name <> ? AND name <> ? ORDER BY id'] },
      '/promise': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT count(*) AS n FROM users WHERE id > ?', 'SELECT name FROM users WHERE id = ?'] },
      '/stream': { names: ['SELECT users'], statements: ['SELECT id FROM users WHERE id > ? ORDER BY id'] },
      '/emitter': { names: ['SELECT users'], statements: ['SELECT name FROM users ORDER BY id'] },
      '/error': { names: ['SELECT missing_table'], statements: ['SELECT * FROM missing_table WHERE id = ?'] },
      '/transaction': { names: ['START', 'INSERT orders', 'COMMIT'], statements: ['START TRANSACTION', 'INSERT INTO orders (item, qty) VALUES (?, ?)', 'COMMIT'] },
      '/prepared': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT name FROM users WHERE id = ?', 'SELECT name FROM users WHERE id = ?'] },
      '/prepare': { names: ['SELECT users', 'SELECT users'], statements: ['SELECT name FROM users WHERE id = ?', 'SELECT name FROM users WHERE id = ?'] },
    },
  },
];

function appEnv(suite: Suite, db: TestDatabase, endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...suite.env,
    TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: endpoint, TRACING_BATCH_DELAY_MS: '20',
    TRACING_PEER_SERVICES: `127.0.0.1:${postgres.port}=postgres,127.0.0.1:${mysql.port}=mariadb`,
    PG_PORT: String(postgres.port), PG_USER: postgres.user, PG_PASSWORD: postgres.password,
    MYSQL_PORT: String(mysql.port), MYSQL_USER: mysql.user, MYSQL_PASSWORD: mysql.password,
    DB_NAME: db.name, LITERAL_SECRET, PARAM_SECRET,
    ...extra,
  };
}

function headers(traceId: string): Record<string, string> {
  return { traceparent: `00-${traceId}-${PARENT}-01` };
}

interface Call {
  route: string;
  traceId: string;
  status: number;
  body: Record<string, unknown>;
}

async function call(app: FixtureApp, route: string): Promise<Call> {
  const traceId = newTraceId();
  const reply = await send(app.ports.front!, { path: route, headers: headers(traceId) });
  return { route, traceId, status: reply.status, body: JSON.parse(reply.body) as Record<string, unknown> };
}

function byStart(a: ReceivedSpan, b: ReceivedSpan): number {
  return Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano));
}


for (const suite of suites) {
  t.test(suite.label, async (t) => {
    await requireServer(suite.driver === 'pg' ? 'PostgreSQL' : 'MariaDB', suite.port);
    const db = await createDatabase(suite.driver);
    t.teardown(() => db.drop());
    const invalidOutcomes = new Map<string, unknown>();

    for (const app of suite.apps) {
      t.test(`${app}: query spans under the server span, safe statements, context kept`, async (t) => {
        const collector = await Collector.start();
        t.teardown(() => collector.close());
        const running = await startApp(fixturePath('db-sql', app), { env: appEnv(suite, db, collector.otlpUrl) });
        const calls: Call[] = [];
        for (const route of Object.keys(suite.routes)) calls.push(await call(running, route));
        // Concurrent callers of a one-connection pool: each waits for another request's release.
        const contended = await Promise.all([0, 1, 2].map(() => call(running, '/contended')));
        const patched = await call(running, '/patched');
        const invalid = await call(running, '/invalid');
        invalidOutcomes.set(app, invalid.body);
        const secretError = await call(running, '/secret-error');
        await new Promise((r) => setTimeout(r, 50));
        t.equal((await running.stop()).code, 0, 'the app ends normally');
        const spans = collector.spans;
        t.same(collector.decodeErrors, []);
        t.notMatch(running.stderr, /warn|error/i, 'the agent logged nothing');

        for (const { route, traceId, status, body } of calls) {
          const expected = suite.routes[route]!;
          t.equal(status, 200, `${route}: answered`);
          t.equal(body.active, 'kept', `${route}: callbacks and awaits ran in the request's context`);
          const trace = spansOf(spans, traceId);
          const server = trace.filter((s) => s.kind === KIND.server);
          t.equal(server.length, 1, `${route}: one server span`);
          const queries = trace.filter((s) => s.kind === KIND.client).sort(byStart);
          t.same(queries.map((s) => s.name), expected.names, `${route}: one span per query, named after verb and table`);
          t.same(queries.map((s) => s.attributes['db.statement']), expected.statements, `${route}: safe statements`);
          for (const q of queries) {
            t.equal(q.parentSpanId, server[0]!.spanId, `${route}: ${q.name} is a child of the server span`);
            t.ok(BigInt(q.endTimeUnixNano) >= BigInt(q.startTimeUnixNano), `${route}: ${q.name} finished`);
            const { 'db.statement': _statement, 'db.error.code': _code, error: _error, ...tags } = q.attributes;
            t.same(tags, {
              component: suite.driver, 'db.type': 'sql', 'db.instance': db.name, 'db.user': suite.driver === 'pg' ? postgres.user : mysql.user,
              'peer.hostname': '127.0.0.1', 'peer.port': suite.port, 'peer.service': suite.driver === 'pg' ? 'postgres' : 'mariadb',
            }, `${route}: ${q.name} tags`);
          }
          if (route === '/error') {
            const failed = queries[0]!;
            t.equal(failed.status.code, 2, 'the failed query is an error span');
            t.equal(failed.attributes['db.error.code'], suite.errorCode, 'with the driver\'s error code');
            t.ok(failed.events.some((e) => e.name === 'exception' || e.attributes['error.kind'] !== undefined), 'and the error logged');
            t.equal(body.code, suite.errorCode, 'the app got the driver\'s error, code intact');
            if (suite.driver === 'pg') t.equal(body.isDatabaseError, true, 'still a pg DatabaseError');
          } else {
            for (const q of queries) t.equal(q.status.code, 0, `${route}: ${q.name} is no error`);
          }
        }

        for (const c of contended) {
          t.equal(c.status, 200);
          t.equal(c.body.active, 'kept', '/contended: the pool callback ran in its own request\'s context');
          const trace = spansOf(spans, c.traceId);
          const server = trace.find((s) => s.kind === KIND.server)!;
          const queries = trace.filter((s) => s.kind === KIND.client);
          t.equal(queries.length, 1, '/contended: its query span is in its own trace');
          t.equal(queries[0]?.parentSpanId, server.spanId, '/contended: under its own server span');
        }
        t.equal(patched.body.own, false, 'the query method is wrapped while the instrumentation is on');
        if (suite.version !== undefined) t.match(patched.body.version, suite.version, `${app}: the intended mysql2 version was loaded`);

        const known = new Set([...calls, ...contended, patched, invalid, secretError].map((c) => c.traceId));
        const messages = secretError.body.messages as string[];
        t.equal(messages.length, 2, '/secret-error: both queries failed');
        t.ok(messages[0]!.includes(PARAM_SECRET) && messages[1]!.includes(LITERAL_SECRET), '/secret-error: the app got the server\'s messages unchanged');
        const failed = spansOf(spans, secretError.traceId).filter((s) => s.kind === KIND.client);
        t.same(failed.map((s) => s.status.code), [2, 2], '/secret-error: both spans are errors');
        t.ok(failed.every((s) => JSON.stringify(s.events).includes('?')), '/secret-error: the logged message has the value replaced');
        t.equal(invalid.status, 200);
        for (const s of spansOf(spans, invalid.traceId).filter((x) => x.kind === KIND.client)) {
          t.ok(BigInt(s.endTimeUnixNano) > 0n, `/invalid: ${s.name} was finished`);
        }
        t.same(spans.filter((s) => !known.has(s.traceId)).map((s) => s.name), ['GET'], 'the start-up query made no span (only /shutdown is traced besides)');
        t.notOk(JSON.stringify(spans).includes(LITERAL_SECRET) || JSON.stringify(spans).includes(PARAM_SECRET), 'no secret in any span');
      });
    }

    t.test(`${suite.apps[0]}: no secret from a literal or a bound parameter in the raw payload`, async (t) => {
      const receiver = await rawReceiver();
      t.teardown(() => receiver.close());
      const running = await startApp(fixturePath('db-sql', suite.apps[0]), { env: appEnv(suite, db, receiver.url) });
      for (const route of ['/callback', '/error', '/prepared', '/secret-error']) t.equal((await call(running, route)).status, 200);
      await new Promise((r) => setTimeout(r, 50));
      t.equal((await running.stop()).code, 0);
      const raw = Buffer.concat(receiver.bodies);
      t.ok(raw.includes('FROM users WHERE name <> ? AND name <>'), 'the statements were exported');
      t.notOk(raw.includes(LITERAL_SECRET), 'the literal is not there');
      t.notOk(raw.includes(PARAM_SECRET), 'the bound parameter is not there');
    });

    t.test(`${suite.apps[0]}: TRACING_DB_STATEMENT=full and TRACING_DB_ROOT_SPANS=true`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const running = await startApp(fixturePath('db-sql', suite.apps[0]), {
        env: appEnv(suite, db, collector.otlpUrl, { TRACING_DB_STATEMENT: 'full', TRACING_DB_ROOT_SPANS: 'true' }),
      });
      const traced = await call(running, '/callback');
      await new Promise((r) => setTimeout(r, 50));
      t.equal((await running.stop()).code, 0);
      const startup = collector.spans.filter((s) => s.kind === KIND.client && s.parentSpanId === '');
      t.same(startup.map((s) => [s.name, s.attributes['db.statement']]), [['SELECT', 'SELECT 1 AS startup']], 'the start-up query is a root span, statement as written');
      const query = spansOf(collector.spans, traced.traceId).find((s) => s.kind === KIND.client);
      const marker = suite.driver === 'pg' ? '$1' : '?';
      t.equal(query?.attributes['db.statement'], `SELECT id, name FROM users WHERE name <> '${LITERAL_SECRET}' AND name <> ${marker} ORDER BY id`, 'full: the literal is kept');
      t.notOk(JSON.stringify(collector.spans).includes(PARAM_SECRET), 'full: bound parameters are still never recorded');
    });

    t.test(`${suite.apps[0]}: switched off, the query method is the driver's own and nothing is recorded`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const running = await startApp(fixturePath('db-sql', suite.apps[0]), {
        env: appEnv(suite, db, collector.otlpUrl, { TRACING_DISABLED_INSTRUMENTATIONS: suite.driver }),
      });
      const patched = await call(running, '/patched');
      const queried = await call(running, '/callback');
      const invalid = await call(running, '/invalid');
      await new Promise((r) => setTimeout(r, 50));
      t.equal((await running.stop()).code, 0);
      t.equal(patched.body.own, true, 'the prototype holds the unpatched function');
      const { active: _a, ...untraced } = invalid.body;
      for (const app of suite.apps) {
        const { active: _b, ...traced } = invalidOutcomes.get(app) as Record<string, unknown>;
        t.same(traced, untraced, `${app}: calls the driver rejects end the same way with the agent as without`);
      }
      t.ok(Object.values(untraced).some((o) => String(o).startsWith('threw') || String(o).startsWith('rejected')), 'and they do fail');
      t.equal(queried.status, 200, 'queries still work');
      t.ok(spansOf(collector.spans, queried.traceId).some((s) => s.kind === KIND.server), 'the request is still traced');
      t.same(collector.spans.filter((s) => s.kind === KIND.client), [], 'no query spans');
    });
  });
}
