import t from 'tap';
import http = require('node:http');
import diagnostics = require('node:diagnostics_channel');
import { errorLog, framework, onLoopback, serverSpanOf, tracer } from './harness.js';

framework('fastify').patch(require('fastify5'));
framework('fastify').patch(require('fastify4'));

const versions = [
  { label: 'fastify 4', fastify: require('fastify4') },
  { label: 'fastify 5', fastify: require('fastify5') },
];

function buildApp(fastify: any) {
  const app = fastify({ logger: false });
  app.get('/hello', async () => 'hi');
  app.get('/users/:id', async (req: any) => req.params.id);
  app.post('/users/:id', async (req: any) => req.params.id);
  app.delete('/users/:id', async (req: any) => req.params.id);
  app.register(async (api: any) => {
    api.get('/items/:itemId', async () => 'item');
    api.register(async (v1: any) => {
      v1.get('/orders/:orderId', async () => 'order');
    }, { prefix: '/v1' });
  }, { prefix: '/api' });
  app.get('/throw', () => {
    throw new TypeError('sync boom');
  });
  app.get('/reject', async () => {
    await new Promise((r) => setImmediate(r));
    throw new Error('async boom');
  });
  app.get('/send-error', (_req: any, reply: any) => {
    reply.send(new RangeError('sent as a reply'));
  });
  app.register(async (scoped: any) => {
    scoped.setErrorHandler((err: any, _req: any, reply: any) => {
      if (err.message === 'client') reply.code(400).send('bad request');
      else reply.code(503).send('unavailable');
    });
    scoped.get('/handled/:kind', async (req: any) => {
      throw new Error(req.params.kind);
    });
  });
  app.get('/context', async (req: any) => {
    const inHandler = tracer.activeSpan();
    await new Promise((r) => setTimeout(r, 1));
    const afterAwait = tracer.activeSpan();
    tracer.startActiveSpan('manual', () => {});
    const downstream = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: Number(req.query.port), path: '/hello', agent: false }, (r) => {
        r.resume().on('end', () => resolve(String(r.statusCode)));
      });
    });
    return { inHandler: inHandler?.context().spanId, afterAwait: afterAwait?.context().spanId, downstream };
  });
  return app;
}

for (const { label, fastify } of versions) {
  t.test(label, async (t) => {
    const app = buildApp(fastify);
    const server = await onLoopback(async (port, host) => {
      await app.listen({ port, host });
      return app.server;
    });
    t.teardown(() => app.close());

    t.test('route templates name the server span, plugin prefixes included', async (t) => {
      const cases: Array<[string, string]> = [
        ['/hello', '/hello'],
        ['/users/42', '/users/:id'],
        ['/api/items/7', '/api/items/:itemId'],
        ['/api/v1/orders/9', '/api/v1/orders/:orderId'],
      ];
      for (const [path, route] of cases) {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 200, `${path} answered`);
        t.equal(span.operationName, `GET ${route}`);
        t.equal(span.tags['http.route'], route);
        t.equal(span.tags.component, 'fastify');
      }
    });

    t.test('each request is named after its own method and route, however they repeat or alternate', async (t) => {
      // The names are kept per route: a name composed for one method or route must never stick to another.
      const cases: Array<[string, string, string]> = [
        ['GET', '/users/1', 'GET /users/:id'],
        ['GET', '/users/2', 'GET /users/:id'],
        ['POST', '/users/3', 'POST /users/:id'],
        ['GET', '/users/4', 'GET /users/:id'],
        ['GET', '/hello', 'GET /hello'],
        ['DELETE', '/users/5', 'DELETE /users/:id'],
        ['DELETE', '/users/6', 'DELETE /users/:id'],
        ['GET', '/api/items/7', 'GET /api/items/:itemId'],
        ['POST', '/users/8', 'POST /users/:id'],
        ['GET', '/hello', 'GET /hello'],
      ];
      for (const [method, path, name] of cases) {
        const { span, reply } = await serverSpanOf(server.port, path, method);
        t.equal(reply.status, 200, `${method} ${path} answered`);
        t.equal(span.operationName, name, `${method} ${path}`);
        t.equal(span.tags['http.route'], name.slice(name.indexOf(' ') + 1));
      }
    });

    t.test('an unmatched path is not named after the raw path', async (t) => {
      const { span, reply } = await serverSpanOf(server.port, '/nope/12345');
      t.equal(reply.status, 404);
      t.equal(span.operationName, 'GET');
      t.equal(span.tags['http.route'], undefined);
      t.equal(span.tags.error, undefined);
    });

    for (const [path, kind, message] of [['/throw', 'TypeError', 'sync boom'], ['/reject', 'Error', 'async boom'], ['/send-error', 'RangeError', 'sent as a reply']] as const) {
      t.test(`an error that ends in a 500 is recorded: ${path}`, async (t) => {
        const { span, reply } = await serverSpanOf(server.port, path);
        t.equal(reply.status, 500);
        t.equal(span.tags.error, true);
        const log = errorLog(span);
        t.match(log, { 'error.kind': kind, message });
        t.match(String(log?.stack), new RegExp(message));
      });
    }

    t.test('an error handler\'s answer decides: 5xx is recorded, 4xx is not', async (t) => {
      const failed = await serverSpanOf(server.port, '/handled/server');
      t.equal(failed.reply.status, 503);
      t.equal(failed.span.tags.error, true);
      t.match(errorLog(failed.span), { message: 'server' });
      t.equal(failed.span.operationName, 'GET /handled/:kind');
      const client = await serverSpanOf(server.port, '/handled/client');
      t.equal(client.reply.status, 400);
      t.equal(client.span.tags.error, undefined);
      t.equal(errorLog(client.span), undefined);
    });

    t.test('inside handlers the server span is active: manual spans and outgoing calls nest under it', async (t) => {
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

t.test('an instance of a version outside the range gets no hooks', async (t) => {
  const added: string[] = [];
  diagnostics.channel('fastify.initialization').publish({ fastify: { version: '3.29.5', addHook: (name: string) => added.push(name) } });
  t.same(added, []);
  diagnostics.channel('fastify.initialization').publish({ fastify: { version: '5.0.0', addHook: (name: string) => added.push(name) } });
  t.same(added, ['onRequest', 'onError'], 'while one inside it does');
});
