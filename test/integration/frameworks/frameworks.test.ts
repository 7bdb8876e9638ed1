import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { ROOT } from '../../helpers/run-node.js';
import { fixturePath, startApp } from '../../helpers/fixture-app.js';

// Zero-code: each fixture app runs under `--import register.mjs`, once as .cjs and once as .mjs,
// exporting OTLP to an in-test collector; every framework major is installed side by side.
const frameworks = [
  { folder: 'express4', component: 'express', param: ':id', item: ':itemId' },
  { folder: 'express5', component: 'express', param: ':id', item: ':itemId' },
  { folder: 'fastify4', component: 'fastify', param: ':id', item: ':itemId' },
  { folder: 'fastify5', component: 'fastify', param: ':id', item: ':itemId' },
  { folder: 'koa2', component: 'koa', param: ':id', item: ':itemId' },
  { folder: 'koa3', component: 'koa', param: ':id', item: ':itemId' },
  { folder: 'hapi', component: 'hapi', param: '{id}', item: '{itemId}' },
];

const SERVER = 2;
const CLIENT = 3;

const loaderPresent = existsSync(path.join(ROOT, 'dist', 'src', 'agent', 'registry.js'));

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

for (const fw of frameworks) {
  for (const file of ['app.cjs', 'app.mjs']) {
    t.test(`${fw.folder} ${file}`, { skip: loaderPresent ? false : 'the loader (src/agent/registry) is not on this branch yet' }, async (t) => {
      const collector = await Collector.start();
      t.teardown(() => collector.close());
      const app = await startApp(fixturePath('frameworks', fw.folder, file), { preserveSymlinks: true, env: env(collector) });
      const replies = {
        plain: await app.get('/users/42'),
        nested: await app.get('/api/v1/items/7'),
        missing: await app.get('/nope/404'),
        boom: await app.get('/boom'),
        client: await app.get('/client-error'),
        context: await app.get('/context'),
      };
      await app.stop();
      const stderr = app.stderr;
      t.same(
        Object.values(replies).map((r) => r.status), [200, 200, 404, 500, 400, 200],
        `the app answers as it would without the agent ${stderr ? `(stderr: ${stderr})` : ''}`,
      );
      t.equal(replies.context.body, 'downstream 200');
      const spans = await collector.waitForSpans(9, 5000);

      const plain = serverSpan(spans, '/users/42');
      t.equal(plain?.name, `GET /users/${fw.param}`);
      t.equal(plain?.attributes['http.route'], `/users/${fw.param}`);
      t.equal(plain?.attributes.component, fw.component);

      const nested = serverSpan(spans, '/api/v1/items/7');
      t.equal(nested?.name, `GET /api/v1/items/${fw.item}`, 'prefixes compose');
      t.equal(nested?.attributes['http.route'], `/api/v1/items/${fw.item}`);

      const missing = serverSpan(spans, '/nope/404');
      t.equal(missing?.name, 'GET', 'a 404 is not named after the raw path');
      t.equal(missing?.attributes['http.route'], undefined);

      const boom = serverSpan(spans, '/boom');
      t.equal(boom?.status.code, 2, 'a handler error that ends in a 500 fails the span');
      const exception = boom?.events.find((e) => e.name === 'exception');
      t.equal(exception?.attributes['exception.type'], 'Error');
      t.equal(exception?.attributes['exception.message'], 'boom');
      t.match(String(exception?.attributes['exception.stacktrace']), /boom/);

      const client = serverSpan(spans, '/client-error');
      t.not(client?.status.code, 2, 'an error answered with a 4xx is not a failure');
      t.equal(client?.events.find((e) => e.name === 'exception'), undefined);

      const context = serverSpan(spans, '/context');
      const manual = spans.find((s) => s.name === 'manual-work');
      t.equal(manual?.parentSpanId, context?.spanId, 'a manual span in the handler is a child of the server span');
      const outgoing = spans.find((s) => s.kind === CLIENT && s.traceId === context?.traceId);
      t.equal(outgoing?.parentSpanId, context?.spanId, 'so is the outgoing fetch');
      const downstream = serverSpan(spans, '/users/1');
      t.equal(downstream?.parentSpanId, outgoing?.spanId, 'which carried the trace to the server it called');
    });
  }
}

// Opting one framework out leaves http tracing the same requests.
for (const fw of [frameworks[1]!, frameworks[3]!, frameworks[5]!, frameworks[6]!]) {
  t.test(`${fw.folder} with TRACING_DISABLED_INSTRUMENTATIONS=${fw.component}`, { skip: loaderPresent ? false : 'the loader (src/agent/registry) is not on this branch yet' }, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const app = await startApp(fixturePath('frameworks', fw.folder, 'app.cjs'), { preserveSymlinks: true, env: env(collector, { TRACING_DISABLED_INSTRUMENTATIONS: fw.component }) });
    const reply = await app.get('/users/42');
    await app.stop();
    t.equal(reply.status, 200);
    const spans = await collector.waitForSpans(1, 5000);
    const plain = serverSpan(spans, '/users/42');
    t.equal(plain?.name, 'GET', 'named by http alone');
    t.equal(plain?.attributes.component, 'http');
    t.equal(plain?.attributes['http.route'], undefined);
  });
}

t.test('express middleware spans, switched on in the TRACING_CONFIG file', { skip: loaderPresent ? false : 'the loader (src/agent/registry) is not on this branch yet' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'frameworks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'tracing.json');
  writeFileSync(configFile, JSON.stringify({ instrumentations: { express: { middlewareSpans: true } } }));
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
