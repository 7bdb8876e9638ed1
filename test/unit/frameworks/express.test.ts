import t from 'tap';
import http = require('node:http');
import { errorLog, framework, onLoopback, request, serverSpanOf, exporter, tracer } from './harness.js';

// Both majors, side by side (npm aliases), patched in-process the way the loader would.
const versions = [
  { label: 'express 4', express: require('express4'), major: 4 },
  { label: 'express 5', express: require('express5'), major: 5 },
];
const plain = framework('express');
for (const v of versions) plain.patch(v.express);

class Teapot extends Error {
  status = 418;
}

function buildApp(express: any, major: number) {
  const app = express();
  app.set('env', 'test'); // keeps express from printing every expected error's stack
  app.use(function logger(_req: unknown, _res: unknown, next: () => void) {
    next();
  });
  app.get('/hello', (_req: any, res: any) => res.send('hi'));
  app.get('/users/:id', (req: any, res: any) => res.send(req.params.id));

  const v1 = express.Router();
  v1.get('/items/:itemId', (_req: any, res: any) => res.send('item'));
  v1.get('/', (_req: any, res: any) => res.send('v1 index'));
  const api = express.Router();
  api.use('/v1', v1);
  const tenant = express.Router({ mergeParams: true });
  tenant.get('/orders/:orderId', (_req: any, res: any) => res.send('order'));
  api.use('/t/:tenant', tenant);
  // A router that matches the prefix but has no route for the path: the request falls through.
  const empty = express.Router();
  empty.get('/only-this', (_req: any, res: any) => res.send('x'));
  app.use('/api', empty);
  app.use('/api', api);
  app.get('/api/fallthrough/:x', (_req: any, res: any) => res.send('fell through'));

  app.get('/throw', () => {
    throw new TypeError('sync boom');
  });
  app.get('/next-error', (_req: any, _res: any, next: (e: unknown) => void) => next(new RangeError('passed to next')));
  if (major >= 5) {
    app.get('/reject', async () => {
      await new Promise((r) => setImmediate(r));
      throw new Error('async boom');
    });
  }
  app.get('/teapot', (_req: any, _res: any, next: (e: unknown) => void) => next(new Teapot('short and stout')));
  app.get('/handled/:kind', (req: any, _res: any, next: (e: unknown) => void) => next(Object.assign(new Error(`handled ${req.params.kind}`), { kind: req.params.kind })));
  app.get('/context', async (req: any, res: any) => {
    const inHandler = tracer.activeSpan();
    await new Promise((r) => setTimeout(r, 1));
    const afterAwait = tracer.activeSpan();
    tracer.startActiveSpan('manual', (span) => {
      span.setTag('manual', true);
    });
    const downstream = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: Number(req.query.port), path: '/hello', agent: false }, (r) => {
        r.resume().on('end', () => resolve(String(r.statusCode)));
      });
    });
    res.json({ inHandler: inHandler?.context().spanId, afterAwait: afterAwait?.context().spanId, mw: req.mwSpan, downstream });
  });
  app.use(function errorHandler(err: any, _req: any, res: any, next: (e: unknown) => void) {
    if (err.kind === 'client') return res.status(400).send('bad request');
    if (err.kind === 'server') return res.status(503).send('unavailable');
    next(err);
  });
  return app;
}

for (const { label, express, major } of versions) {
  t.test(label, async (t) => {
    const app = buildApp(express, major);
    const server = await onLoopback((port, host) => app.listen(port, host));
    t.teardown(server.close);

    t.test('route templates name the server span, through nested and prefixed routers', async (t) => {
      const cases: Array<[string, string]> = [
        ['/hello', '/hello'],
        ['/users/42', '/users/:id'],
        ['/api/v1/items/7', '/api/v1/items/:itemId'],
        ['/api/v1', '/api/v1'],
        ['/api/t/acme/orders/9', '/api/t/:tenant/orders/:orderId'],
        ['/api/fallthrough/1', '/api/fallthrough/:x'],
      ];
      for (const [path, route] of cases) {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 200, `${path} answered`);
        t.equal(span.operationName, `GET ${route}`, `${path} is named after ${route}`);
        t.equal(span.tags['http.route'], route);
        t.equal(span.tags.component, 'express');
      }
    });

    t.test('an unmatched path is not named after the raw path', async (t) => {
      const { span, reply } = await serverSpanOf(server.port, '/nope/12345');
      t.equal(reply.status, 404);
      t.equal(span.operationName, 'GET');
      t.equal(span.tags['http.route'], undefined);
      t.equal(span.tags.error, undefined, 'a 404 is not a server error');
    });

    const failures: Array<[string, string, string]> = [
      ['/throw', 'TypeError', 'sync boom'],
      ['/next-error', 'RangeError', 'passed to next'],
      ['/handled/other', 'Error', 'handled other'],
    ];
    if (major >= 5) failures.push(['/reject', 'Error', 'async boom']);
    for (const [path, kind, message] of failures) {
      t.test(`an error that ends in a 500 is recorded: ${path}`, async (t) => {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 500);
        t.equal(span.tags.error, true);
        const log = errorLog(span);
        t.match(log, { 'error.kind': kind, message });
        t.match(String(log?.stack), new RegExp(message), 'with its stack');
      });
    }

    t.test('an error the app answers itself with a 5xx is recorded; with a 4xx it is not', async (t) => {
      const server5xx = await serverSpanOf(server.port, '/handled/server');
      t.equal(server5xx.reply.status, 503);
      t.equal(server5xx.span.tags.error, true);
      t.match(errorLog(server5xx.span), { message: 'handled server' });
      const client = await serverSpanOf(server.port, '/handled/client');
      t.equal(client.reply.status, 400);
      t.equal(client.span.tags.error, undefined);
      t.equal(errorLog(client.span), undefined);
      const teapot = await serverSpanOf(server.port, '/teapot');
      t.equal(teapot.reply.status, 418, 'express answers with the error\'s own status');
      t.equal(teapot.span.tags.error, undefined);
    });

    t.test('inside handlers the server span is active: manual spans and outgoing calls nest under it', async (t) => {
      const { span, reply, spans } = await serverSpanOf(server.port, `/context?port=${server.port}`);
      const seen = JSON.parse(reply.body);
      t.equal(seen.inHandler, span.context().spanId);
      t.equal(seen.afterAwait, span.context().spanId, 'still active after an await');
      const manual = spans.find((s) => s.operationName === 'manual');
      t.equal(manual?.parentSpanId, span.context().spanId);
      const client = spans.find((s) => s.tags['span.kind'] === 'client');
      t.equal(client?.parentSpanId, span.context().spanId);
      t.equal(seen.downstream, '200');
    });

    t.test('what express hands around is left as it is', async (t) => {
      const fn = (_req: unknown, res: any) => res.send('ok');
      const probe = express();
      let sameNext = false;
      probe.use((req: any, _res: unknown, next: unknown) => {
        sameNext = req.next === next;
        (next as () => void)();
      });
      probe.get('/probe', fn);
      const s = await onLoopback((port, host) => probe.listen(port, host));
      await request(s.port, '/probe');
      await s.close();
      t.ok(sameNext, 'next is the one express keeps on req.next');
      const router = major >= 5 ? probe.router : probe._router;
      const route = router.stack.find((l: any) => l.route?.path === '/probe');
      t.equal(route.route.stack[0].handle, fn, 'the handler in the stack is the user\'s function');
      t.throws(() => express.Router().use('/x', 'not a function'), TypeError, 'express\'s own validation runs unchanged');
    });
  });
}

t.test('middleware spans (option middlewareSpans)', async (t) => {
  const express = require('express5');
  // Re-patched with the option on for this test, then back to the default.
  const withSpans = framework('express', { middlewareSpans: true });
  plain.undo();
  withSpans.patch(express);
  t.teardown(() => {
    withSpans.undo();
    for (const v of versions) plain.patch(v.express);
  });
  const app = express();
  app.use(function auth(_req: unknown, _res: unknown, next: () => void) {
    setImmediate(next);
  });
  app.get('/things/:id', function showThing(_req: unknown, res: any) {
    tracer.startActiveSpan('inside', () => {});
    res.send('thing');
  });
  const server = await onLoopback((port, host) => app.listen(port, host));
  t.teardown(server.close);
  const { span, spans } = await serverSpanOf(server.port, '/things/1');
  await new Promise((r) => setTimeout(r, 10));
  const all = exporter.getFinishedSpans();
  const auth = all.find((s) => s.operationName === 'middleware - auth');
  const handler = all.find((s) => s.operationName === 'middleware - showThing');
  t.ok(auth && handler, `middleware spans exist (${all.map((s) => s.operationName).join(', ')})`);
  t.equal(auth?.parentSpanId, span.context().spanId);
  t.equal(handler?.parentSpanId, span.context().spanId);
  t.equal(all.find((s) => s.operationName === 'inside')?.parentSpanId, handler?.context().spanId, 'the handler\'s middleware span is active in it');
  t.equal(span.operationName, 'GET /things/:id');
  t.ok(spans.length >= 1);
});
