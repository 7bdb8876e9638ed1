import t from 'tap';
import http = require('node:http');
import { errorLog, framework, onLoopback, serverSpanOf, tracer } from './harness.js';

// The instrumentation targets hapi's Request class (its `file`), as the loader would hand it over.
framework('hapi').patch(require('@hapi/hapi/lib/request.js'));
const Hapi = require('@hapi/hapi');
const Boom = require('@hapi/boom');

t.test('hapi 21', async (t) => {
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  server.route({ method: 'GET', path: '/hello', handler: () => 'hi' });
  server.route({ method: 'GET', path: '/users/{id}', handler: (req: any) => req.params.id });
  await server.register({
    name: 'api',
    register: (plugin: any) => {
      plugin.route({ method: 'GET', path: '/items/{itemId}', handler: () => 'item' });
    },
  }, { routes: { prefix: '/api' } });
  server.route({ method: 'GET', path: '/throw', handler: () => { throw new TypeError('sync boom'); } });
  server.route({
    method: 'GET', path: '/reject', handler: async () => {
      await new Promise((r) => setImmediate(r));
      throw new Error('async boom');
    },
  });
  server.route({ method: 'GET', path: '/bad', handler: () => Boom.badRequest('your fault') });
  server.route({
    method: 'GET', path: '/context', handler: async (req: any) => {
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
    },
  });
  const running = await onLoopback(async () => {
    await server.start();
    return server.listener;
  });
  t.teardown(() => server.stop());

  t.test('route templates name the server span, as hapi writes them, plugin prefixes included', async (t) => {
    for (const [path, route] of [['/hello', '/hello'], ['/users/42', '/users/{id}'], ['/api/items/7', '/api/items/{itemId}']] as const) {
      const { span, reply } = await serverSpanOf(running.port, path);
      t.equal(reply.status, 200, `${path} answered`);
      t.equal(span.operationName, `GET ${route}`);
      t.equal(span.tags['http.route'], route);
      t.equal(span.tags.component, 'hapi');
    }
  });

  t.test('an unmatched path is not named after the raw path (nor after hapi\'s catch-all)', async (t) => {
    const { span, reply } = await serverSpanOf(running.port, '/nope/12345');
    t.equal(reply.status, 404);
    t.equal(span.operationName, 'GET');
    t.equal(span.tags['http.route'], undefined);
    t.equal(span.tags.error, undefined);
  });

  for (const [path, kind, message] of [['/throw', 'TypeError', 'sync boom'], ['/reject', 'Error', 'async boom']] as const) {
    t.test(`an error hapi turns into a 500 is recorded: ${path}`, async (t) => {
      const { span, reply } = await serverSpanOf(running.port, path);
      t.equal(reply.status, 500);
      t.equal(span.tags.error, true);
      const log = errorLog(span);
      t.match(log, { 'error.kind': kind, message });
      t.match(String(log?.stack), new RegExp(message));
    });
  }

  t.test('a Boom 4xx is not an error', async (t) => {
    const { span, reply } = await serverSpanOf(running.port, '/bad');
    t.equal(reply.status, 400);
    t.equal(span.tags.error, undefined);
    t.equal(errorLog(span), undefined);
  });

  t.test('inside handlers the server span is active: manual spans and outgoing calls nest under it', async (t) => {
    const { span, reply, spans } = await serverSpanOf(running.port, `/context?port=${running.port}`);
    const seen = JSON.parse(reply.body);
    t.equal(seen.inHandler, span.context().spanId);
    t.equal(seen.afterAwait, span.context().spanId);
    t.equal(spans.find((s) => s.operationName === 'manual')?.parentSpanId, span.context().spanId);
    t.equal(spans.find((s) => s.tags['span.kind'] === 'client')?.parentSpanId, span.context().spanId);
    t.equal(seen.downstream, '200');
  });
});
