import t, { type Test } from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath, startApp, writeConfigFile } from '../../helpers/fixture-app.js';

// Zero-code: each fixture app runs under `--import register.mjs`, once as .cjs and once as .mjs,
// exporting OTLP to an in-test collector; every framework major is installed side by side.
// Twenty-one app starts, one after the other: on a loaded machine that outlasts the default 120 s.
t.setTimeout(300_000);
const frameworks = [
  { folder: 'express4', component: 'express', param: ':id', item: ':itemId' },
  { folder: 'express5', component: 'express', param: ':id', item: ':itemId' },
  { folder: 'fastify4', component: 'fastify', param: ':id', item: ':itemId' },
  { folder: 'fastify5', component: 'fastify', param: ':id', item: ':itemId' },
  { folder: 'koa2', component: 'koa', param: ':id', item: ':itemId' },
  { folder: 'koa3', component: 'koa', param: ':id', item: ':itemId' },
  { folder: 'hapi', component: 'hapi', param: '{id}', item: '{itemId}' },
];

type Framework = (typeof frameworks)[number];

const SERVER = 2;
const CLIENT = 3;

function env(collector: Collector, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    TRACING_EXPORTER: 'otlp',
    TRACING_ENDPOINT: collector.otlpUrl,
    TRACING_BATCH_DELAY_MS: '50',
    TRACING_SERVICE_NAME: 'framework-fixture',
    ...extra,
  };
}

function serverSpan(spans: readonly ReceivedSpan[], urlPath: string): ReceivedSpan | undefined {
  return spans.find((s) => s.kind === SERVER && String(s.attributes['http.url']).endsWith(urlPath));
}

/**
 * One request to a framework app and what must come of it: the app's answer (as without the
 * agent), then the server span of that request. A field left out is not checked for that request.
 */
interface Scenario {
  path: string;
  status: number;
  body?: string;
  /** The server span's name and `http.route` (`undefined`: no route), `{param}` per framework. */
  name?: (fw: Framework) => string;
  route?: (fw: Framework) => string | undefined;
  component?: (fw: Framework) => string;
  /** `true`: the span is failed with this exception event; `false`: not failed, no exception event. */
  failed?: { type: string; message: string; stack: RegExp } | false;
  /** Checks on the rest of the trace, around this request's server span. */
  around?: (t: Test, spans: readonly ReceivedSpan[], server: ReceivedSpan | undefined) => void;
  /** Says why the name is what it is. */
  why?: string;
}

const SCENARIOS: readonly Scenario[] = [
  {
    path: '/users/42', status: 200,
    name: (fw) => `GET /users/${fw.param}`, route: (fw) => `/users/${fw.param}`, component: (fw) => fw.component,
  },
  {
    path: '/api/v1/items/7', status: 200, why: 'prefixes compose',
    name: (fw) => `GET /api/v1/items/${fw.item}`, route: (fw) => `/api/v1/items/${fw.item}`,
  },
  {
    path: '/nope/404', status: 404, why: 'a 404 is not named after the raw path',
    name: () => 'GET', route: () => undefined,
  },
  {
    path: '/boom', status: 500,
    failed: { type: 'Error', message: 'boom', stack: /boom/ },
  },
  {
    path: '/client-error', status: 400,
    failed: false,
  },
  {
    path: '/context', status: 200, body: 'downstream 200',
    around(t, spans, context) {
      const manual = spans.find((s) => s.name === 'manual-work');
      t.equal(manual?.parentSpanId, context?.spanId, 'a manual span in the handler is a child of the server span');
      const outgoing = spans.find((s) => s.kind === CLIENT && s.traceId === context?.traceId);
      t.equal(outgoing?.parentSpanId, context?.spanId, 'so is the outgoing fetch');
      const downstream = serverSpan(spans, '/users/1');
      t.equal(downstream?.parentSpanId, outgoing?.spanId, 'which carried the trace to the server it called');
    },
  },
];

/** Checks one scenario's server span against its row. */
function checkServerSpan(t: Test, fw: Framework, row: Scenario, span: ReceivedSpan | undefined): void {
  if (row.name !== undefined) t.equal(span?.name, row.name(fw), row.why ?? `${row.path}: span name`);
  if (row.route !== undefined) t.equal(span?.attributes['http.route'], row.route(fw), `${row.path}: http.route`);
  if (row.component !== undefined) t.equal(span?.attributes.component, row.component(fw), `${row.path}: component`);
  if (row.failed === false) {
    t.not(span?.status.code, 2, 'an error answered with a 4xx is not a failure');
    t.equal(span?.events.find((e) => e.name === 'exception'), undefined, `${row.path}: no exception event`);
  } else if (row.failed !== undefined) {
    t.equal(span?.status.code, 2, 'a handler error that ends in a 500 fails the span');
    const exception = span?.events.find((e) => e.name === 'exception');
    t.equal(exception?.attributes['exception.type'], row.failed.type);
    t.equal(exception?.attributes['exception.message'], row.failed.message);
    t.match(String(exception?.attributes['exception.stacktrace']), row.failed.stack);
  }
}

for (const fw of frameworks) {
  for (const file of ['app.cjs', 'app.mjs']) {
    t.test(`${fw.folder} ${file}`, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const app = await startApp(fixturePath('frameworks', fw.folder, file), { preserveSymlinks: true, env: env(collector) });
      const replies = [];
      for (const row of SCENARIOS) replies.push(await app.get(row.path));
      await app.stop();
      const stderr = app.stderr;
      t.same(
        replies.map((r) => r.status), SCENARIOS.map((row) => row.status),
        `the app answers as it would without the agent ${stderr ? `(stderr: ${stderr})` : ''}`,
      );
      for (const [i, row] of SCENARIOS.entries()) if (row.body !== undefined) t.equal(replies[i]!.body, row.body);
      const spans = await collector.waitForSpans(9, 5000);
      for (const row of SCENARIOS) {
        const span = serverSpan(spans, row.path);
        checkServerSpan(t, fw, row, span);
        row.around?.(t, spans, span);
      }
    });
  }
}

// Opting one framework out leaves http tracing the same requests.
const HTTP_ALONE: Scenario = {
  path: '/users/42', status: 200, why: 'named by http alone',
  name: () => 'GET', component: () => 'http', route: () => undefined,
};
for (const fw of [frameworks[1]!, frameworks[3]!, frameworks[5]!, frameworks[6]!]) {
  t.test(`${fw.folder} with TRACING_DISABLED_INSTRUMENTATIONS=${fw.component}`, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const app = await startApp(fixturePath('frameworks', fw.folder, 'app.cjs'), { preserveSymlinks: true, env: env(collector, { TRACING_DISABLED_INSTRUMENTATIONS: fw.component }) });
    const reply = await app.get(HTTP_ALONE.path);
    await app.stop();
    t.equal(reply.status, HTTP_ALONE.status);
    const spans = await collector.waitForSpans(1, 5000);
    checkServerSpan(t, fw, HTTP_ALONE, serverSpan(spans, HTTP_ALONE.path));
  });
}

t.test('express middleware spans, switched on in the TRACING_CONFIG file', async (t) => {
  const configFile = writeConfigFile(t, { instrumentations: { express: { middlewareSpans: true } } });
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const app = await startApp(fixturePath('frameworks', 'express4', 'app.mjs'), { preserveSymlinks: true, env: env(collector, { TRACING_CONFIG: configFile }) });
  t.equal((await app.get('/users/42')).status, 200);
  await app.stop();
  const spans = await collector.waitForSpans(2, 5000);
  const server = serverSpan(spans, '/users/42');
  const middleware = spans.filter((s) => s.parentSpanId === server?.spanId && s.name.startsWith('middleware - '));
  t.same(middleware.map((s) => s.name), ['middleware - query', 'middleware - expressInit', 'middleware - <anonymous>'],
    'express 4\'s own two middleware, then the route handler, each a child of the server span');
  t.ok(middleware.every((s) => s.attributes.component === 'express'));
});
