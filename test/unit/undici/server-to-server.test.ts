import t from 'tap';
import http = require('node:http');
import { suppressTracing } from '../../../src/util/suppress.js';
import { instrument, memoryTracer } from '../../helpers/instrumentation-context.js';
import { parentIdOf, startServer } from './harness.js';

// The whole path in one process: an http server span (the http instrumentation) whose handler calls a
// second server with every undici API; the second server's spans must hang under the client spans.
t.test('a server calling another server with fetch, undici.request, undici.fetch and a Pool: one trace', async (t) => {
  const undici = await import('undici7');
  const { tracer, exporter } = memoryTracer();
  const running = [instrument('http', tracer), instrument('undici', tracer), instrument('fetch', tracer)];
  running[0]!.patch(http);
  running[1]!.start();
  running[2]!.start();
  const downstream = await startServer();
  const pool = new undici.Pool(downstream.base, { connections: 2 });
  const front = await startServer(async (_req, res) => {
    const serverSpan = tracer.activeSpan();
    await (await fetch(`${downstream.base}/global-fetch`)).text();
    await (await undici.request(`${downstream.base}/undici-request`)).body.text();
    await (await undici.fetch(`${downstream.base}/undici-fetch`)).text();
    await (await pool.request({ path: '/pool', method: 'GET' })).body.text();
    res.end(tracer.activeSpan() === serverSpan ? 'same span' : 'span changed');
  });
  t.teardown(async () => {
    for (const r of running) r.undo();
    await pool.close();
    await front.close();
    await downstream.close();
  });

  const answer = await suppressTracing(async () => (await fetch(front.base)).text());
  t.equal(answer, 'same span', 'the handler\'s active span is the same after every call');
  await new Promise((r) => setTimeout(r, 20));

  const spans = exporter.getFinishedSpans();
  t.equal(new Set(spans.map((s) => s.context().traceId)).size, 1, 'one trace');
  const servers = spans.filter((s) => s.tags['span.kind'] === 'server');
  const clients = spans.filter((s) => s.tags['span.kind'] === 'client');
  const root = servers.find((s) => s.parentSpanId === '');
  t.ok(root, 'the front server span is the root');
  t.same(clients.map((s) => new URL(String(s.tags['http.url'])).pathname),
    ['/global-fetch', '/undici-request', '/undici-fetch', '/pool'], 'one client span per call, in order');
  t.same(clients.map((s) => s.tags.component), ['fetch', 'undici', 'fetch', 'undici']);
  for (const client of clients) t.equal(client.parentSpanId, root?.context().spanId, `${client.tags['http.url']}: child of the server span`);
  t.same(downstream.received.map((r) => parentIdOf(r.traceparents[0])), clients.map((c) => c.context().spanId),
    'downstream received each client span\'s id in traceparent');
  const downstreamServers = servers.filter((s) => s !== root);
  t.same(downstreamServers.map((s) => s.parentSpanId).sort(), clients.map((c) => c.context().spanId).sort(),
    'each downstream server span is a child of its client span');
});
