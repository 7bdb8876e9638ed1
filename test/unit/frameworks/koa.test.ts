import t from 'tap';
import http = require('node:http');
import { errorLog, framework, onLoopback, serverSpanOf, tracer } from './harness.js';

const Router = require('@koa/router');
const versions = [
  { label: 'koa 2', Koa: require('koa2') },
  { label: 'koa 3', Koa: require('koa3') },
];
for (const v of versions) framework('koa').patch(v.Koa);

function buildApp(Koa: any) {
  const app = new Koa();
  app.silent = true; // koa would print every expected error
  app.use(async (ctx: any, next: () => Promise<void>) => {
    try {
      await next();
    } catch (err: any) {
      if (err.message !== 'client') throw err;
      ctx.status = 400;
      ctx.body = 'bad request';
    }
  });
  const router = new Router();
  router.get('/hello', (ctx: any) => (ctx.body = 'hi'));
  router.get('/users/:id', (ctx: any) => (ctx.body = ctx.params.id));
  router.get('/throw', () => {
    throw new TypeError('sync boom');
  });
  router.get('/reject', async () => {
    await new Promise((r) => setImmediate(r));
    throw new Error('async boom');
  });
  router.get('/client', () => {
    throw new Error('client');
  });
  router.get('/forbidden', (ctx: any) => ctx.throw(403, 'no entry'));
  router.get('/context', async (ctx: any) => {
    const inHandler = tracer.activeSpan();
    await new Promise((r) => setTimeout(r, 1));
    const afterAwait = tracer.activeSpan();
    tracer.startActiveSpan('manual', () => {});
    const downstream = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: Number(ctx.query.port), path: '/hello', agent: false }, (r) => {
        r.resume().on('end', () => resolve(String(r.statusCode)));
      });
    });
    ctx.body = { inHandler: inHandler?.context().spanId, afterAwait: afterAwait?.context().spanId, downstream };
  });
  const api = new Router({ prefix: '/api' });
  const v1 = new Router();
  v1.get('/items/:itemId', (ctx: any) => (ctx.body = 'item'));
  api.use('/v1', v1.routes());
  api.get('/orders/:orderId', (ctx: any) => (ctx.body = 'order'));
  app.use(router.routes());
  app.use(api.routes());
  return app;
}

for (const { label, Koa } of versions) {
  t.test(label, async (t) => {
    const app = buildApp(Koa);
    const server = await onLoopback((port, host) => app.listen(port, host));
    t.teardown(server.close);

    t.test('@koa/router templates name the server span, prefixes and nested routers included', async (t) => {
      const cases: Array<[string, string]> = [
        ['/hello', '/hello'],
        ['/users/42', '/users/:id'],
        ['/api/orders/9', '/api/orders/:orderId'],
        ['/api/v1/items/7', '/api/v1/items/:itemId'],
      ];
      for (const [path, route] of cases) {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 200, `${path} answered`);
        t.equal(span.operationName, `GET ${route}`);
        t.equal(span.tags['http.route'], route);
        t.equal(span.tags.component, 'koa');
      }
    });

    t.test('an unmatched path is not named after the raw path', async (t) => {
      const { span, reply } = await serverSpanOf(server.port, '/nope/12345');
      t.equal(reply.status, 404);
      t.equal(span.operationName, 'GET');
      t.equal(span.tags['http.route'], undefined);
      t.equal(span.tags.component, 'koa');
    });

    for (const [path, kind, message] of [['/throw', 'TypeError', 'sync boom'], ['/reject', 'Error', 'async boom']] as const) {
      t.test(`an error koa turns into a 500 is recorded: ${path}`, async (t) => {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 500);
        t.equal(span.tags.error, true);
        const log = errorLog(span);
        t.match(log, { 'error.kind': kind, message });
        t.match(String(log?.stack), new RegExp(message));
      });
    }

    t.test('errors answered with a 4xx are not errors', async (t) => {
      const caught = await serverSpanOf(server.port, '/client');
      t.equal(caught.reply.status, 400, 'caught and answered by a middleware');
      t.equal(caught.span.tags.error, undefined);
      const thrown = await serverSpanOf(server.port, '/forbidden');
      t.equal(thrown.reply.status, 403, 'ctx.throw(403)');
      t.equal(thrown.span.tags.error, undefined);
      t.equal(errorLog(thrown.span), undefined);
    });

    t.test('inside middleware the server span is active: manual spans and outgoing calls nest under it', async (t) => {
      const { span, reply, spans } = await serverSpanOf(server.port, `/context?port=${server.port}`);
      const seen = JSON.parse(reply.body);
      t.equal(seen.inHandler, span.context().spanId);
      t.equal(seen.afterAwait, span.context().spanId);
      t.equal(spans.find((s) => s.operationName === 'manual')?.parentSpanId, span.context().spanId);
      t.equal(spans.find((s) => s.tags['span.kind'] === 'client')?.parentSpanId, span.context().spanId);
      t.equal(seen.downstream, '200');
    });
  });
}
