import t from 'tap';
import { AlwaysOffSampler } from '../../../src/sampling/sampler.js';
import { suppressTracing } from '../../../src/util/suppress.js';
import { parentIdOf, startServer, startTracing } from './harness.js';

t.test('global fetch: one client span, child of the active span, its id sent downstream', async (t) => {
  const traced = startTracing();
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  let parentId = '';
  await traced.tracer.startActiveSpan('caller', async (caller) => {
    parentId = caller.context().spanId;
    const res = await fetch(`${server.base}/items?page=2&token=s3cret`);
    t.equal(traced.tracer.activeSpan(), caller, 'the caller\'s span is still active after await fetch()');
    t.equal(await res.text(), 'ok GET /items?page=2&token=s3cret', 'the body arrives unchanged');
    t.equal(traced.tracer.activeSpan(), caller, 'and after reading the body');
  });
  const [client] = traced.clientSpans();
  t.equal(traced.clientSpans().length, 1, 'exactly one client span');
  t.ok(client, 'a client span was finished');
  if (client === undefined) return;
  t.equal(client.parentSpanId, parentId, 'child of the active span');
  t.equal(client.operationName, 'GET');
  t.match(client.tags, {
    'span.kind': 'client',
    component: 'fetch',
    'http.method': 'GET',
    'http.url': `${server.base}/items?page=2&token=REDACTED`,
    'peer.hostname': '127.0.0.1',
    'peer.port': server.port,
    'http.status_code': 200,
  });
  t.notOk('error' in client.tags, 'a 200 is not an error');
  t.same(server.received[0]!.traceparents.length, 1, 'one traceparent header');
  t.equal(parentIdOf(server.received[0]!.traceparents[0]), client.context().spanId, 'downstream sees the client span as parent');
  t.ok(server.received[0]!.traceparents[0]!.includes(client.context().traceId), 'in the same trace');
});

t.test('without an active span fetch starts a new trace', async (t) => {
  const traced = startTracing();
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  await (await fetch(`${server.base}/root`)).text();
  const [client] = traced.clientSpans();
  t.equal(client?.parentSpanId, '', 'a root span');
  t.equal(traced.tracer.activeSpan(), null, 'nothing leaks into the caller\'s context');
});

t.test('a traceparent set by the caller is kept and not sent twice', async (t) => {
  const traced = startTracing();
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  const own = '00-11111111111111111111111111111111-2222222222222222-01';
  await traced.tracer.startActiveSpan('caller', async () => {
    await (await fetch(server.base, { headers: { TraceParent: own } })).text();
  });
  t.same(server.received[0]!.traceparents, [own], 'exactly the caller\'s header');
  t.equal(traced.clientSpans().length, 1, 'the request is still traced');
});

t.test('the span ends when the body has been received, not when headers arrive', async (t) => {
  const traced = startTracing();
  let release: () => void = () => undefined;
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('part one;');
    release = () => res.end('part two');
  });
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  const res = await fetch(server.base);
  t.equal(traced.clientSpans().length, 0, 'open while the body is still coming');
  const body = res.text();
  release();
  t.equal(await body, 'part one;part two');
  t.equal(traced.clientSpans().length, 1, 'finished once the body ended');
});

t.test('status >= 400 marks the span as an error; the response is untouched', async (t) => {
  const traced = startTracing();
  const server = await startServer((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  const res = await fetch(server.base);
  t.equal(res.status, 503);
  t.equal(await res.text(), 'down');
  t.match(traced.clientSpans()[0]?.tags, { 'http.status_code': 503, error: true });
});

t.test('requests made inside suppressTracing (the exporter\'s) create no span and no header', async (t) => {
  const traced = startTracing();
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  await suppressTracing(async () => (await fetch(server.base)).text());
  t.equal(traced.spans().length, 0, 'no span');
  t.same(server.received[0]!.traceparents, [], 'no traceparent');
});

t.test('an unsampled trace records nothing but still propagates its context', async (t) => {
  const traced = startTracing({ tracer: { sampler: new AlwaysOffSampler() } });
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  await (await fetch(server.base)).text();
  t.equal(traced.spans().length, 0, 'nothing exported');
  t.match(server.received[0]!.traceparents[0], /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]$/, 'a traceparent with the sampled flag clear');
});

t.test('peer.service comes from the host map; sensitive params are configurable', async (t) => {
  const traced = startTracing({ config: { peerServices: { '127.0.0.1': 'inventory' }, sensitiveQueryParams: ['ssn'] } });
  const server = await startServer();
  t.teardown(async () => {
    traced.stop();
    await server.close();
  });
  await (await fetch(`${server.base}/p?ssn=123&q=1`)).text();
  t.match(traced.clientSpans()[0]?.tags, { 'peer.service': 'inventory', 'http.url': `${server.base}/p?ssn=REDACTED&q=1` });
});

t.test('fetch and undici can be switched off separately', async (t) => {
  const undici = await import('undici7');
  const server = await startServer();
  t.teardown(() => server.close());

  const onlyUndici = startTracing({ only: 'undici' });
  await (await fetch(server.base)).text();
  await (await undici.request(server.base)).body.text();
  t.same(onlyUndici.clientSpans().map((s) => s.tags.component), ['undici'], 'fetch off: only the undici request is traced');
  onlyUndici.stop();

  const onlyFetch = startTracing({ only: 'fetch' });
  await (await fetch(server.base)).text();
  await (await undici.request(server.base)).body.text();
  t.same(onlyFetch.clientSpans().map((s) => s.tags.component), ['fetch'], 'undici off: only fetch is traced');
  onlyFetch.stop();

  await (await fetch(server.base)).text();
  t.same(server.received.at(-1)!.traceparents, [], 'both stopped: nothing is injected any more');
});
