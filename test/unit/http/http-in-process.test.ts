import t from 'tap';
import http = require('node:http');
import type { AddressInfo } from 'node:net';
import { instrument, memoryTracer } from '../../helpers/instrumentation-context.js';
import { suppressTracing } from '../../../src/util/suppress.js';
import { isOnlyClearIncoming, isOnlyNodeFinish } from '../../../instrumentations/http/server.js';

const { tracer, exporter } = memoryTracer();
instrument('http', tracer, { ignorePaths: ['/health'], requestHeaders: ['x-request-id', 'authorization'] }).patch(http);

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  // The test plays an outside caller: its own requests are not traced.
  return suppressTracing(() => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    }).on('error', reject);
  }));
}

const settle = () => new Promise((r) => setTimeout(r, 20));

/** The first finished server span, waited for up to 2 s; undefined if none finished by then. */
async function finishedServerSpan() {
  for (const deadline = Date.now() + 2000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 5))) {
    const span = exporter.getFinishedSpans().find((s) => s.tags['span.kind'] === 'server');
    if (span !== undefined) return span;
  }
  return undefined;
}

t.test('server span continues the caller\'s trace; the outgoing call carries it on with a new parent id', async (t) => {
  exporter.reset();
  const downstream = await listen((req, res) => res.end(JSON.stringify(req.headers)));
  const front = await listen((req, res) => {
    const active = tracer.activeSpan();
    http.get({ host: '127.0.0.1', port: downstream.port, path: '/stock?token=s3cret&x=1' }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d)).on('end', () => {
        res.setHeader('x-active', active === null ? 'none' : active.context().spanId);
        res.end(body);
      });
    });
  });
  const r = await get(front.port, '/orders/42?password=hunter2', {
    traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, tracestate: 'rojo=00f067aa0ba902b7', 'x-request-id': 'abc', authorization: 'Bearer nope', 'x-service-name': 'web',
  });
  await settle();
  const seen = JSON.parse(r.body) as Record<string, string>;
  const spans = exporter.getFinishedSpans();
  const server = spans.find((s) => s.tags['span.kind'] === 'server' && s.tags['http.url']?.toString().includes('/orders'))!;
  const client = spans.find((s) => s.tags['span.kind'] === 'client')!;
  t.ok(server && client, 'a server and a client span');
  t.equal(server.context().traceId, TRACE);
  t.equal(server.parentSpanId, '00f067aa0ba902b7');
  t.equal(r.headers['x-active'], server.context().spanId, 'the server span is active in the handler');
  t.equal(client.parentSpanId, server.context().spanId);
  t.equal(seen.traceparent, `00-${TRACE}-${client.context().spanId}-01`, 'downstream got the client span as parent');
  t.equal(seen.tracestate, 'rojo=00f067aa0ba902b7', 'tracestate passed on unchanged');
  t.equal(server.operationName, 'GET');
  t.match(server.tags, {
    component: 'http', 'http.method': 'GET', 'http.status_code': 200, 'peer.ipv4': '127.0.0.1', 'peer.service': 'web',
    'http.url': `http://127.0.0.1:${front.port}/orders/42?password=REDACTED`, 'http.request.header.x-request-id': 'abc',
  });
  t.equal(server.tags['http.request.header.authorization'], undefined, 'authorization is never captured');
  t.type(server.tags['peer.port'], 'number');
  t.match(client.tags, {
    component: 'http', 'http.method': 'GET', 'http.status_code': 200, 'peer.hostname': '127.0.0.1', 'peer.port': downstream.port,
    'http.url': `http://127.0.0.1:${downstream.port}/stock?token=REDACTED&x=1`,
  });
  front.server.close();
  downstream.server.close();
});

t.test('an invalid traceparent starts a new trace and drops tracestate', async (t) => {
  exporter.reset();
  const svc = await listen((req, res) => res.end(String(tracer.activeSpan()?.context().traceState ?? '')));
  const r = await get(svc.port, '/', { traceparent: `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`, tracestate: 'rojo=1' });
  await settle();
  const [server] = exporter.getFinishedSpans();
  t.not(server!.context().traceId, TRACE.toUpperCase().toLowerCase());
  t.equal(server!.parentSpanId, '');
  t.equal(r.body, '', 'the invalid parent\'s tracestate is not carried');
  svc.server.close();
});

t.test('ignored paths get no span; 5xx marks an error; handler throw is recorded and passed through', async (t) => {
  exporter.reset();
  const svc = await listen((req, res) => {
    if (req.url === '/boom') {
      res.statusCode = 503;
      res.end('down');
      return;
    }
    res.end('ok');
  });
  await get(svc.port, '/health');
  await get(svc.port, '/boom');
  await settle();
  const spans = exporter.getFinishedSpans();
  t.equal(spans.length, 1, 'health check produced no span');
  t.equal(spans[0]!.tags.error, true);
  t.equal(spans[0]!.tags['http.status_code'], 503);
  svc.server.close();
});

t.test('a client abort is recorded on the server span', async (t) => {
  exporter.reset();
  let closeServer: () => void = () => {};
  const svc = await listen((req, res) => {
    res.write('partial');
    closeServer = () => res.end();
  });
  await suppressTracing(() => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: svc.port, path: '/slow' }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
  }));
  try {
    // The server sees the socket close a few ticks later: on a loaded machine, more than a fixed pause.
    const server = await finishedServerSpan();
    t.ok(server, 'server span finished when the client went away');
    t.equal(server?.tags.error, true);
    t.equal(server?.logs[0]?.fields['error.kind'], 'aborted');
  } finally {
    closeServer();
    svc.server.close();
  }
});

t.test('client errors finish the span with error=true; suppressed requests make no span', async (t) => {
  exporter.reset();
  const closed = await listen(() => {});
  const port = closed.port;
  await new Promise<void>((r) => closed.server.close(() => r()));
  await new Promise<void>((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/' }).on('error', () => resolve());
  });
  const [span] = exporter.getFinishedSpans();
  t.equal(span!.tags.error, true);
  t.equal(span!.logs[0]!.fields['error.kind'], 'Error');
  t.match(String(span!.logs[0]!.fields.message), /ECONNREFUSED/);

  exporter.reset();
  const svc = await listen((req, res) => res.end(String(req.headers.traceparent ?? 'none')));
  const body = await suppressTracing(() => new Promise<string>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: svc.port, path: '/', headers: { 'x-exporter': '1' } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d)).on('end', () => resolve(b));
    });
    req.end();
  }));
  await settle();
  t.equal(body, 'none', 'no context injected');
  t.equal(exporter.getFinishedSpans().filter((s) => s.tags['span.kind'] === 'client').length, 0, 'no client span');
  svc.server.close();
});

t.test('a response nobody listens to is still discarded, freeing the keep-alive socket', async (t) => {
  exporter.reset();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const svc = await listen((req, res) => res.end('x'.repeat(100_000)));
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: svc.port, path: '/', agent });
      req.on('close', () => resolve());
      req.end();
    });
  }
  await settle();
  t.equal(exporter.getFinishedSpans().filter((s) => s.tags['span.kind'] === 'client').length, 3, 'three requests completed on one socket');
  agent.destroy();
  svc.server.close();
});

t.test("Node's own 'finish'/'end' bookkeeping runs outside the request's scope; the app's listeners on those events run in it", async (t) => {
  exporter.reset();
  const seen: Array<{ path: string; where: string; spanId: string | null }> = [];
  const idOf = () => tracer.activeSpan()?.context().spanId ?? null;
  const bookkeeping: boolean[] = [];
  const svc = await listen((req, res) => {
    // Only Node's resOnFinish listens to 'finish' here: nothing of the app's can see a scope.
    bookkeeping.push(isOnlyNodeFinish(res));
    const path = req.url!;
    const own = idOf();
    setTimeout(() => {
      res.on('finish', () => seen.push({ path, where: 'finish', spanId: idOf() }));
      req.on('end', () => seen.push({ path, where: 'end', spanId: idOf() }));
      t.notOk(isOnlyNodeFinish(res), "with the app's listener beside Node's, the scope is entered");
      seen.push({ path, where: 'handler', spanId: own });
      res.end('ok');
      req.resume();
    }, 5);
  });
  await Promise.all(['/a', '/b', '/c'].map((p) => get(svc.port, p)));
  await settle();
  t.same(bookkeeping, [true, true, true], "resOnFinish alone is recognised as Node's");
  // A response ended before its request was read: Node's clearIncoming waits for the request's 'end'.
  const cleared: boolean[] = [];
  const early = await listen((req, res) => {
    res.on('finish', () => cleared.push(isOnlyClearIncoming(req)));
    res.end('early');
  });
  await Promise.all(['/x', '/y', '/z'].map((p) => get(early.port, p)));
  t.same(cleared, [true, true, true], "clearIncoming alone on the request's 'end' is recognised as Node's");
  early.server.close();
  for (const path of ['/a', '/b', '/c']) {
    const mine = seen.filter((s) => s.path === path);
    const handler = mine.find((s) => s.where === 'handler')!;
    t.ok(handler.spanId !== null, `${path}: handler traced`);
    for (const where of ['finish', 'end']) {
      t.equal(mine.find((s) => s.where === where)?.spanId, handler.spanId, `${path}: the app's '${where}' listener runs in its own request's span`);
    }
  }
  const named = new http.IncomingMessage(null as never);
  named.on('end', function clearIncoming() {});
  t.notOk(isOnlyClearIncoming(named), "an app's function named like Node's is still the app's");
  const manual = new http.ServerResponse(named);
  manual.on('finish', () => {});
  t.notOk(isOnlyNodeFinish(manual), "a response that did not come through the server's 'request' has no Node listener to skip");
  svc.server.close();
});

t.test('http.url is each request\'s own when consecutive requests repeat or change the host, the path or the query', async (t) => {
  exporter.reset();
  const svc = await listen((req, res) => res.end('ok'));
  // The same path and host again and again (the server reuses the URL it built), interleaved with requests
  // that differ from the one before in one part only; three at a time, then one by one.
  const requests = [
    { id: 'a1', host: 'a.example:8080', path: '/same' },
    { id: 'b1', host: 'b.example:8080', path: '/same' },
    { id: 'a2', host: 'a.example:8080', path: '/same?token=s3cret' },
    { id: 'a3', host: 'a.example:8080', path: '/same' },
    { id: 'a4', host: 'a.example:8080', path: '/same' },
    { id: 'a5', host: 'a.example:8080', path: '/other' },
    { id: 'a6', host: 'a.example:8080', path: '/same?token=s3cret' },
    { id: 'a7', host: 'a.example:8080', path: '/same?token=s3cret' },
    { id: 'c1', host: 'a.example:8081', path: '/same' },
  ];
  const send = (r: (typeof requests)[number]) => get(svc.port, r.path, { host: r.host, 'x-request-id': r.id });
  await Promise.all(requests.slice(0, 3).map(send));
  for (const r of requests.slice(3)) await send(r);
  await settle();
  const spans = exporter.getFinishedSpans();
  for (const r of requests) {
    const span = spans.find((s) => s.tags['http.request.header.x-request-id'] === r.id);
    t.equal(span?.tags['http.url'], `http://${r.host}${r.path.replace('s3cret', 'REDACTED')}`, `${r.id}: its own URL`);
  }
  svc.server.close();
});

t.test('peer address and port are each request\'s own connection\'s, across keep-alive reuse, connections in turn and IPv6', async (t) => {
  exporter.reset();
  const seen: { url: string; port: number | undefined; address: string | undefined }[] = [];
  const svc = await listen((req, res) => {
    seen.push({ url: req.url!, port: req.socket.remotePort, address: req.socket.remoteAddress });
    res.end('ok');
  });
  // Two keep-alive connections used in turn, three requests each: the tag follows the connection, not the last request.
  const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })];
  for (let i = 0; i < 6; i++) {
    await suppressTracing(() => new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: svc.port, path: `/conn/${i}`, agent: agents[i % 2] }, (res) => res.resume().on('end', () => resolve())).on('error', reject);
    }));
  }
  // A new connection after one closed: its own port.
  agents[0]!.destroy();
  await get(svc.port, '/conn/after-close');
  await settle();
  const spans = exporter.getFinishedSpans();
  t.equal(spans.length, 7, 'one span a request');
  for (const s of seen) {
    const span = spans.find((x) => String(x.tags['http.url']).endsWith(s.url))!;
    t.equal(span.tags['peer.port'], s.port, `${s.url}: the port of its connection`);
    t.equal(span.tags['peer.ipv4'], s.address, `${s.url}: the address of its connection`);
  }
  const ports = seen.map((s) => s.port);
  t.equal(ports[0], ports[2], 'requests on one connection share its port');
  t.not(ports[0], ports[1], 'requests on the other connection carry the other port');
  t.not(ports[6], ports[0], 'a new connection after a close has its own port');
  agents[1]!.destroy();
  svc.server.close();

  // IPv6 loopback, where the machine has it.
  exporter.reset();
  const v6 = http.createServer((req, res) => res.end(String(req.socket.remotePort)));
  const listening = await new Promise<boolean>((resolve) => {
    v6.once('error', () => resolve(false));
    v6.listen(0, '::1', () => resolve(true));
  });
  if (!listening) {
    t.comment('no IPv6 loopback here: the IPv6 case is not checked');
    return;
  }
  const port = (v6.address() as AddressInfo).port;
  const body = await suppressTracing(() => new Promise<string>((resolve, reject) => {
    http.get({ host: '::1', port, path: '/v6' }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => resolve(b));
    }).on('error', reject);
  }));
  await settle();
  const [span] = exporter.getFinishedSpans();
  t.equal(span?.tags['peer.ipv6'], '::1', 'an IPv6 peer is tagged peer.ipv6');
  t.equal(span?.tags['peer.ipv4'], undefined, 'and not peer.ipv4');
  t.equal(span?.tags['peer.port'], Number(body), 'with its port');
  v6.close();
});

t.test('a request over a UNIX socket (no peer address) gets no peer tags', async (t) => {
  exporter.reset();
  const path = `${process.env.TMPDIR ?? '/tmp'}/acme-peer-${process.pid}.sock`;
  const svc = http.createServer((req, res) => res.end('ok'));
  await new Promise<void>((resolve) => svc.listen(path, resolve));
  await suppressTracing(() => new Promise<void>((resolve, reject) => {
    http.get({ socketPath: path, path: '/unix' }, (res) => res.resume().on('end', () => resolve())).on('error', reject);
  }));
  await settle();
  const [span] = exporter.getFinishedSpans();
  t.ok(span, 'the request over a UNIX socket is traced');
  t.equal(span?.tags['peer.ipv4'], undefined, 'no peer.ipv4');
  t.equal(span?.tags['peer.ipv6'], undefined, 'no peer.ipv6');
  t.equal(span?.tags['peer.port'], undefined, 'no peer.port');
  svc.close();
});
