// The graphql integration suite, run by graphql-http.test.ts and apollo.test.ts (split so each file stays
// well inside tap's timeout). Zero-code graphql: apps on graphql 15 and 16 (served by graphql-http) and on Apollo Server 5 (on express
// and standalone) run under `node --import register.mjs`, as .cjs and as .mjs, against the real PostgreSQL.
// Each gets named, anonymous and mutation operations, syntax, validation, variable and resolver errors,
// and three concurrent operations whose resolvers query PostgreSQL and call an http server; the collector
// must see one operation span per request, named after the operation, under the renamed server span, with
// every query and call of its resolvers below it, in its own trace, and no value the client sent.
import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { postgres, requireServer } from '../../helpers/db-servers.js';
import { fixturePath, send, startApp, writeConfigFile, type FixtureApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';
import { createDatabase, type TestDatabase } from '../db-sql/databases.js';
import { rawReceiver } from '../../helpers/raw-receiver.js';

const PARENT = '00f067aa0ba902b7';
// Apollo takes seconds to start on a loaded machine (the helper's default is 15 s).
const START_TIMEOUT_MS = 60_000;
const LITERAL_SECRET = `lit-${randomBytes(6).toString('hex')}`;
const PARAM_SECRET = `param-${randomBytes(6).toString('hex')}`;

interface AppKind {
  label: string;
  folder: string;
  env?: NodeJS.ProcessEnv;
  /** The server span's name before the operation is added. */
  route: string;
  /** Status of a request whose operation failed to parse or validate. */
  rejectStatus: number;
  /** Status of a request whose variables do not fit their types. */
  variableErrorStatus: number;
  /** The app files to run (default both, app.cjs and app.mjs). */
  files?: string[];
}

const DEEP_IMPORT_ENV: NodeJS.ProcessEnv = typeof (require('node:module') as { registerHooks?: unknown }).registerHooks === 'function' ? {} : { TRACING_IMPORT_HOOK: 'always' };

export const KINDS: AppKind[] = [
  { label: 'graphql 15 via graphql-http', folder: 'graphql15', route: 'POST /graphql', rejectStatus: 200, variableErrorStatus: 200 },
  { label: 'graphql 16 via graphql-http', folder: 'graphql16', route: 'POST /graphql', rejectStatus: 200, variableErrorStatus: 200 },
  { label: 'Apollo Server 5 on express', folder: 'apollo5', env: { APOLLO_MODE: 'express' }, route: 'POST /graphql', rejectStatus: 400, variableErrorStatus: 400 },
  { label: 'Apollo Server 5 standalone', folder: 'apollo5', env: { APOLLO_MODE: 'standalone' }, route: 'POST /graphql', rejectStatus: 400, variableErrorStatus: 400 },
  { label: 'Apollo Server 4 on express 4', folder: 'apollo4', env: { APOLLO_MODE: 'express', APOLLO_EXPRESS: 'builtin' }, route: 'POST /graphql', rejectStatus: 400, variableErrorStatus: 200 },
  { label: 'GraphQL Yoga 5 (@graphql-tools/executor)', folder: 'yoga', route: 'POST /graphql', rejectStatus: 200, variableErrorStatus: 400 },
  // graphql's .mjs files, imported by path: every operation goes through graphql() of that build. Where
  // module.registerHooks exists the deep import starts the import hook; Node 20 has no in-thread hook to
  // see it, and graphql alone starts no loader thread there: TRACING_IMPORT_HOOK=always (docs/loader.md).
  { label: 'graphql 16 ES-module build', folder: 'esm-build', env: DEEP_IMPORT_ENV, route: 'POST /graphql', rejectStatus: 200, variableErrorStatus: 200, files: ['app.mjs'] },
];

const GET_USER = `query GetUser($id: ID!, $note: String) {
  user(id: $id, note: $note) { id name greeting(prefix: "${LITERAL_SECRET}") profile { bio } }
}`;
const MANY = 'query Many { users(count: 10000) { id name posts { id title } } }';
const GET_USER_REDACTED = 'query GetUser($id: ID!, $note: String) { user(id: $id, note: $note) { id name greeting(prefix: ?) profile { bio } } }';

function appEnv(kind: AppKind, db: TestDatabase, endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: '--preserve-symlinks --preserve-symlinks-main',
    TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: endpoint, TRACING_BATCH_DELAY_MS: '20',
    PG_PORT: String(postgres.port), PG_USER: postgres.user, PG_PASSWORD: postgres.password, DB_NAME: db.name,
    ...kind.env,
    ...extra,
  };
}

interface Call {
  traceId: string;
  status: number;
  body: { data?: Record<string, any>; errors?: Array<{ message: string }> };
}

async function post(app: FixtureApp, query: string, variables?: Record<string, unknown>): Promise<Call> {
  const traceId = newTraceId();
  const reply = await send(app.ports.graphql!, {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', accept: 'application/json', traceparent: `00-${traceId}-${PARENT}-01` },
    body: JSON.stringify({ query, variables }),
  });
  let body: Call['body'] = {};
  try {
    body = JSON.parse(reply.body) as Call['body'];
  } catch {
    body = { errors: [{ message: `not JSON: ${reply.body.slice(0, 200)}` }] };
  }
  return { traceId, status: reply.status, body };
}

function only<T>(t: Test, list: T[], what: string): T {
  t.equal(list.length, 1, `one ${what}`);
  return list[0]!;
}

function operationSpans(trace: ReceivedSpan[]): ReceivedSpan[] {
  return trace.filter((s) => s.attributes.component === 'graphql' && !String(s.name).startsWith('resolve '));
}

/** The checks of one GetUser request: names, nesting, downstream context, document. */
function checkGetUser(t: Test, spans: ReceivedSpan[], call: Call, kind: AppKind, resolverSpans: boolean): void {
  t.equal(call.status, 200, 'GetUser answered');
  t.same(call.body.errors, undefined, 'GetUser without errors');
  t.equal(call.body.data?.user?.name, 'ann', 'the resolver read PostgreSQL');
  const trace = spansOf(spans, call.traceId);
  const server = only(t, trace.filter((s) => s.kind === KIND.server && s.name.startsWith('POST')), 'server span');
  t.equal(server.name, `${kind.route} query GetUser`, 'the server span is named after route and operation');
  t.equal(server.attributes['graphql.operation.name'], 'GetUser', 'and tagged with the operation');
  const op = only(t, operationSpans(trace), 'operation span');
  t.equal(op.name, 'query GetUser');
  t.equal(op.parentSpanId, server.spanId, 'the operation is a child of the server span');
  t.equal(op.attributes['graphql.operation.type'], 'query');
  t.equal(op.attributes['graphql.operation.name'], 'GetUser');
  t.equal(op.attributes['graphql.document'], GET_USER_REDACTED, 'the document, literal replaced');
  t.equal(op.status.code, 0, 'no error');
  const query = only(t, trace.filter((s) => s.kind === KIND.client && s.attributes.component === 'pg'), 'query span');
  const fetch = only(t, trace.filter((s) => s.kind === KIND.client && s.attributes.component !== 'pg'), 'http client span');
  const profileServer = only(t, trace.filter((s) => s.kind === KIND.server && s.name.startsWith('GET')), 'downstream server span');
  t.equal(profileServer.parentSpanId, fetch.spanId, 'the downstream server continued the trace of the resolver\'s call');
  t.match(call.body.data?.user?.profile?.bio, `traceparent 00-${call.traceId}-${fetch.spanId}`, 'the downstream request carried this trace');
  if (!resolverSpans) {
    t.equal(query.parentSpanId, op.spanId, 'the resolver\'s query is a child of the operation span');
    t.equal(fetch.parentSpanId, op.spanId, 'the resolver\'s http call is a child of the operation span');
    t.same(trace.filter((s) => s.name.startsWith('resolve ')), [], 'no resolver spans by default');
  } else {
    const user = only(t, trace.filter((s) => s.name === 'resolve user'), 'user resolver span');
    const profile = only(t, trace.filter((s) => s.name === 'resolve user.profile'), 'profile resolver span');
    t.equal(user.parentSpanId, op.spanId, 'the root field\'s resolver span is a child of the operation');
    t.equal(profile.parentSpanId, user.spanId, 'a nested field\'s span is a child of its parent field\'s');
    t.equal(query.parentSpanId, user.spanId, 'the query is a child of the resolver that made it');
    t.equal(fetch.parentSpanId, profile.spanId, 'the http call is a child of the resolver that made it');
    t.same(trace.filter((s) => /^resolve user\.(id|name)$/.test(s.name)), [], 'no span for default (property) resolvers');
  }
}

/** The main scenario (as .cjs and .mjs) and the resolver-span scenario, for each kind of app. */
export function runKinds(t: Test, db: TestDatabase, kinds: readonly AppKind[]): void {
  for (const kind of kinds) {
    for (const file of kind.files ?? ['app.cjs', 'app.mjs']) {
      t.test(`${kind.label}, ${file}: operation spans, errors, context under concurrency`, async (t) => {
        const collector = await Collector.start();
        t.teardown(() => collector.close());
        const app = await startApp(fixturePath('graphql', `${kind.folder}/${file}`), { readyTimeoutMs: START_TIMEOUT_MS, env: appEnv(kind, db, collector.otlpUrl) });
        const first = await post(app, GET_USER, { id: '1', note: PARAM_SECRET });
        const anonymous = await post(app, '{ hello }');
        const mutation = await post(app, 'mutation CreateOrder($item: String!) { createOrder(item: $item, qty: 2) { id item } }', { item: PARAM_SECRET });
        const syntax = await post(app, `query Broken { user(id: "${LITERAL_SECRET}" { name } }`);
        const invalid = await post(app, `query Invalid { users(count: "${LITERAL_SECRET}") { id } }`);
        const badVariable = await post(app, 'query Count($n: Int!) { users(count: $n) { id } }', { n: PARAM_SECRET });
        const failing = await post(app, 'query Boom { hello boom }');
        const concurrent = await Promise.all([0, 1, 2].map(() => post(app, GET_USER, { id: '1', note: PARAM_SECRET })));
        const many = await post(app, MANY);
        await new Promise((r) => setTimeout(r, 50));
        t.equal((await app.stop()).code, 0, 'the app ends normally');
        const spans = collector.spans;
        t.same(collector.decodeErrors, []);
        t.notMatch(app.stderr, /warn|error/i, 'the agent logged nothing');

        checkGetUser(t, spans, first, kind, false);
        const firstOp = operationSpans(spansOf(spans, first.traceId))[0]!;
        const phases = firstOp.events.map((e) => e.name);
        t.ok(phases.includes('graphql.parse') && phases.includes('graphql.validate'), 'parse and validate are events of the operation span');
        t.ok(BigInt(firstOp.startTimeUnixNano) <= BigInt(firstOp.events[0]!.timeUnixNano), 'the operation span starts where parsing started');
        for (const c of concurrent) checkGetUser(t, spans, c, kind, false);

        t.equal(anonymous.body.data?.hello, 'world');
        const anon = only(t, operationSpans(spansOf(spans, anonymous.traceId)), 'anonymous operation span');
        t.equal(anon.name, 'query', 'an anonymous query is named `query`');
        t.equal(anon.attributes['graphql.operation.name'], undefined, 'with no operation name tag');
        t.equal(spansOf(spans, anonymous.traceId).find((s) => s.kind === KIND.server)?.name, `${kind.route} query`);

        t.equal(mutation.status, 200);
        t.match(mutation.body.data?.createOrder, { item: PARAM_SECRET }, 'the mutation ran');
        const mut = only(t, operationSpans(spansOf(spans, mutation.traceId)), 'mutation span');
        t.equal(mut.name, 'mutation CreateOrder');
        t.equal(mut.attributes['graphql.operation.type'], 'mutation');
        const insert = spansOf(spans, mutation.traceId).find((s) => s.attributes.component === 'pg');
        t.equal(insert?.parentSpanId, mut.spanId, 'the INSERT is a child of the mutation span');

        const checkFailed = (call: Call, name: string, status: number, message: RegExp, what: string): ReceivedSpan => {
          t.equal(call.status, status, `${what}: answered ${status}`);
          const op = only(t, operationSpans(spansOf(spans, call.traceId)), `${what} operation span`);
          t.equal(op.name, name, `${what}: named after the operation`);
          t.equal(op.status.code, 2, `${what}: an error span`);
          const logged = op.events.filter((e) => e.name === 'exception' || e.attributes['error.kind'] !== undefined || e.name === 'error');
          t.ok(logged.length >= 1, `${what}: the error is logged on it`);
          t.match(JSON.stringify(logged), message, `${what}: with its message`);
          return op;
        };
        checkFailed(syntax, 'query Broken', kind.rejectStatus, /Syntax Error: Expected Name/, 'syntax error');
        const invalidOp = checkFailed(invalid, 'query Invalid', kind.rejectStatus, /Int cannot represent non-integer value: \?/, 'validation error');
        t.equal(invalidOp.attributes['graphql.document'], 'query Invalid { users(count: ?) { id } }', 'validation error: the document, literal replaced');
        checkFailed(badVariable, 'query Count', kind.variableErrorStatus, /got invalid value \?/, 'variable error');
        t.equal(failing.body.data?.hello, 'world', 'resolver error: the other field still resolved');
        const boom = checkFailed(failing, 'query Boom', 200, /boom failed/, 'resolver error');
        t.ok(boom.events.some((e) => e.attributes['graphql.error.path'] === 'boom'), 'resolver error: logged with its path');

        t.equal(many.body.data?.users?.length, 10000, 'the list query answered 10,000 users');
        t.same(spansOf(spans, many.traceId).map((s) => s.name).sort(), [`${kind.route} query Many`, 'query Many'], 'without resolver spans a 10,000-item list is the server span and the operation span');

        const text = JSON.stringify(spans);
        t.notOk(text.includes(LITERAL_SECRET), 'no literal value in any span');
        t.notOk(text.includes(PARAM_SECRET), 'no variable value in any span');
      });
    }

    t.test(`${kind.label}: resolver spans on — nested, collapsed, bounded for a 10,000-item list`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const config = writeConfigFile(t, { instrumentations: { graphql: { resolverSpans: true } } });
      const app = await startApp(fixturePath('graphql', `${kind.folder}/${(kind.files ?? ['app.cjs'])[0]}`), { readyTimeoutMs: START_TIMEOUT_MS, env: appEnv(kind, db, collector.otlpUrl, { TRACING_CONFIG: config }) });
      const first = await post(app, GET_USER, { id: '1', note: PARAM_SECRET });
      const concurrent = await Promise.all([0, 1, 2].map(() => post(app, GET_USER, { id: '1' })));
      const many = await post(app, MANY);
      await new Promise((r) => setTimeout(r, 100));
      t.equal((await app.stop()).code, 0);
      const spans = collector.spans;
      t.notMatch(app.stderr, /warn|error/i, 'the agent logged nothing');
      checkGetUser(t, spans, first, kind, true);
      for (const c of concurrent) checkGetUser(t, spans, c, kind, true);
      t.equal(many.body.data?.users?.length, 10000, 'the list query answered 10,000 users');
      const trace = spansOf(spans, many.traceId);
      t.ok(trace.length <= 5, `a 10,000-item list made ${trace.length} spans (server, operation, one per field path with a resolver)`);
      const op = only(t, operationSpans(trace), 'operation span');
      const users = only(t, trace.filter((s) => s.name === 'resolve users'), 'span for users');
      const posts = only(t, trace.filter((s) => s.name === 'resolve users.*.posts'), 'one span for every users.*.posts call');
      t.equal(users.parentSpanId, op.spanId);
      t.equal(posts.parentSpanId, users.spanId, 'the list items\' span is a child of the list field\'s');
      t.equal(posts.attributes['graphql.field.calls'], 10000, 'it counts the 10,000 calls');
      t.equal(posts.attributes['graphql.field.path'], 'users.*.posts');
    });
  }

}

/** The raw-bytes check and the opt-out, on graphql 16. */
export function runPrivacyAndOptOut(t: Test, db: TestDatabase): void {
  t.test('graphql 16, app.cjs: no literal or variable value in the raw exported bytes', async (t) => {
    const receiver = await rawReceiver();
    t.teardown(() => receiver.close());
    const kind = KINDS[1]!;
    const app = await startApp(fixturePath('graphql', `${kind.folder}/app.cjs`), { readyTimeoutMs: START_TIMEOUT_MS, env: appEnv(kind, db, receiver.url, { TRACING_CONFIG: writeConfigFile(t, { instrumentations: { graphql: { resolverSpans: true } } }) }) });
    t.equal((await post(app, GET_USER, { id: '1', note: PARAM_SECRET })).status, 200);
    await post(app, `query Broken { user(id: "${LITERAL_SECRET}" { name } }`);
    await post(app, `query Invalid { users(count: "${LITERAL_SECRET}") { id } }`);
    await post(app, 'query Count($n: Int!) { users(count: $n) { id } }', { n: PARAM_SECRET });
    await new Promise((r) => setTimeout(r, 50));
    t.equal((await app.stop()).code, 0);
    const raw = Buffer.concat(receiver.bodies);
    t.ok(raw.includes('greeting(prefix: ?)'), 'the redacted document was exported');
    t.notOk(raw.includes(LITERAL_SECRET), 'the literal is not there');
    t.notOk(raw.includes(PARAM_SECRET), 'the variable is not there');
  });

  t.test('graphql 16, app.cjs: switched off, no graphql span and the server span keeps its name', async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const kind = KINDS[1]!;
    const app = await startApp(fixturePath('graphql', `${kind.folder}/app.cjs`), { readyTimeoutMs: START_TIMEOUT_MS, env: appEnv(kind, db, collector.otlpUrl, { TRACING_DISABLED_INSTRUMENTATIONS: 'graphql' }) });
    const call = await post(app, GET_USER, { id: '1' });
    await new Promise((r) => setTimeout(r, 50));
    t.equal((await app.stop()).code, 0);
    t.equal(call.body.data?.user?.name, 'ann', 'the query still works');
    const trace = spansOf(collector.spans, call.traceId);
    t.same(trace.filter((s) => s.attributes.component === 'graphql'), [], 'no graphql spans');
    t.equal(trace.find((s) => s.kind === KIND.server && s.name.startsWith('POST'))?.name, 'POST', 'the server span is not renamed');
    t.ok(trace.some((s) => s.attributes.component === 'pg'), 'the query span is still there');
  });
}

/** Creates the suite's PostgreSQL database (failing, never skipping, when the server is down). */
export async function suiteDatabase(t: Test): Promise<TestDatabase> {
  await requireServer('PostgreSQL', postgres.port);
  const db = await createDatabase('pg');
  t.teardown(() => db.drop());
  return db;
}
