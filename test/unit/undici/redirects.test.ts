import t from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parentIdOf, startServer, startTracing } from './harness.js';

// `/start` redirects to `/end`; everything else answers 200.
function redirecting(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/start') {
    res.writeHead(302, { location: '/end' });
    res.end('moved');
    return;
  }
  res.end(`ok ${req.url}`);
}

t.test('fetch following a redirect: one span per hop, both children of the caller', async (t) => {
  const traced = startTracing();
  const server = await startServer(redirecting);
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  const caller = traced.tracer.startSpan('caller');
  const body = await traced.tracer.scopeManager.run(caller, async () => (await fetch(`${server.base}/start`)).text());
  caller.finish();
  t.equal(body, 'ok /end');
  const spans = traced.clientSpans();
  t.same(spans.map((s) => [new URL(String(s.tags['http.url'])).pathname, s.tags['http.status_code']]), [['/start', 302], ['/end', 200]]);
  for (const span of spans) t.equal(span.parentSpanId, caller.context().spanId, 'child of the caller');
  t.same(server.received.map((r) => parentIdOf(r.traceparents[0])), spans.map((s) => s.context().spanId), 'each hop carries its own span id');
});

t.test('undici\'s own redirect handling: hops stay in the caller\'s trace even on a connection another trace opened', async (t) => {
  const server = await startServer(redirecting);
  t.teardown(() => server.close());
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const majors: Array<[string, any, (u: any) => any]> = [
    ['undici5', await import('undici5'), (u) => new u.Client(server.base)],
    ['undici6', await import('undici6'), (u) => new u.Client(server.base)],
    ['undici7', await import('undici7'), (u) => new u.Client(server.base).compose(u.interceptors.redirect({ maxRedirections: 1 }))],
  ];
  for (const [major, undici, makeClient] of majors) {
    await t.test(major, async (t) => {
      const traced = startTracing();
      const client = makeClient(undici);
      t.teardown(async () => {
        traced.stop();
        await client.close();
      });
      const redirectOption = major === 'undici7' ? {} : { maxRedirections: 1 };
      // Trace A opens the only connection; its async context is the socket's from now on.
      const first = traced.tracer.startSpan('first trace');
      await traced.tracer.scopeManager.run(first, async () => (await client.request({ path: '/warm', method: 'GET' })).body.text());
      first.finish();
      const caller = traced.tracer.startSpan('second trace');
      const body = await traced.tracer.scopeManager.run(caller, async () =>
        (await client.request({ origin: server.base, path: '/start', method: 'GET', ...redirectOption })).body.text());
      caller.finish();
      t.equal(body, 'ok /end');
      const hops = traced.clientSpans().filter((s) => !String(s.tags['http.url']).endsWith('/warm'));
      t.equal(hops.length, 2, 'one span per hop');
      for (const hop of hops) {
        t.equal(hop.context().traceId, caller.context().traceId, `${hop.tags['http.url']}: in the caller's trace`);
        t.equal(hop.parentSpanId, caller.context().spanId, 'a child of the caller');
      }
    });
  }
});
