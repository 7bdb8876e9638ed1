import t from 'tap';
import type { Test } from 'tap';
import { Writable, Readable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import type { Span } from '../../../src/api/span.js';
import { parentIdOf, startServer, startTracing, type TestServer, type Traced } from './harness.js';

// The three majors side by side (npm aliases); each is driven through every API it offers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UndiciModule = any;
const MAJORS: Array<[string, () => Promise<UndiciModule>]> = [
  ['undici5', () => import('undici5')],
  ['undici6', () => import('undici6')],
  ['undici7', () => import('undici7')],
];

/** Each API call, made the way its docs show, returning the response body as text. */
const CALLS: Array<[string, (u: UndiciModule, url: string) => Promise<string>]> = [
  ['request', async (u, url) => (await u.request(url)).body.text()],
  ['stream', async (u, url) => {
    const chunks: Buffer[] = [];
    await u.stream(url, { method: 'GET' }, () => new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }));
    return Buffer.concat(chunks).toString();
  }],
  ['pipeline', async (u, url) => {
    const chunks: Buffer[] = [];
    await pipe(
      Readable.from([]),
      u.pipeline(url, { method: 'GET' }, ({ body }: { body: Readable }) => body),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(chunk);
          cb();
        },
      }),
    );
    return Buffer.concat(chunks).toString();
  }],
  ['fetch', async (u, url) => (await u.fetch(url)).text()],
  ['Client', async (u, url) => {
    const client = new u.Client(new URL(url).origin);
    try {
      return await (await client.request({ path: new URL(url).pathname, method: 'GET' })).body.text();
    } finally {
      await client.close();
    }
  }],
  ['Pool', async (u, url) => {
    const pool = new u.Pool(new URL(url).origin, { connections: 2 });
    try {
      return await (await pool.request({ path: new URL(url).pathname, method: 'GET' })).body.text();
    } finally {
      await pool.close();
    }
  }],
  ['Agent', async (u, url) => {
    const agent = new u.Agent();
    try {
      return await (await u.request(url, { dispatcher: agent })).body.text();
    } finally {
      await agent.close();
    }
  }],
];

function checkOneCall(t: Test, traced: Traced, server: TestServer, parent: Span, component: string, path: string): void {
  const spans = traced.clientSpans().filter((s) => String(s.tags['http.url']).endsWith(path));
  t.equal(spans.length, 1, 'exactly one span');
  const span = spans[0];
  if (span === undefined) return;
  t.equal(span.parentSpanId, parent.context().spanId, 'child of the active span');
  t.equal(span.context().traceId, parent.context().traceId, 'in the caller\'s trace');
  t.match(span.tags, { 'span.kind': 'client', component, 'http.method': 'GET', 'http.status_code': 200, 'peer.port': server.port });
  const seen = server.received.filter((r) => r.url === path);
  t.equal(seen.length, 1, 'one request downstream');
  t.equal(seen[0]?.traceparents.length, 1, 'one traceparent');
  t.equal(parentIdOf(seen[0]?.traceparents[0]), span.context().spanId, 'downstream parent is the client span');
}

for (const [major, load] of MAJORS) {
  t.test(major, async (t) => {
    const undici = await load();
    const traced = startTracing();
    const server = await startServer();
    t.teardown(async () => {
      traced.stop();
      await server.close();
    });
    for (const [api, call] of CALLS) {
      await t.test(api, async (t) => {
        const path = `/${major}/${api}`;
        const parent = traced.tracer.startSpan('caller');
        const body = await traced.tracer.scopeManager.run(parent, async () => {
          const text = await call(undici, `${server.base}${path}`);
          t.equal(traced.tracer.activeSpan(), parent, 'the caller\'s span is still active afterwards');
          return text;
        });
        parent.finish();
        t.equal(body, `ok GET ${path}`, 'the body arrives unchanged');
        checkOneCall(t, traced, server, parent, api === 'fetch' ? 'fetch' : 'undici', path);
      });
    }
  });
}

t.test('Node\'s bundled undici and an npm undici in one process: one span per request', async (t) => {
  const undici = await import('undici7');
  const traced = startTracing();
  const server = await startServer();
  const slot = Symbol.for('undici.globalDispatcher.1');
  const globals = globalThis as unknown as Record<symbol, unknown>;
  const original = globals[slot];
  const agent = new undici.Agent();
  t.teardown(async () => {
    globals[slot] = original;
    traced.stop();
    await agent.close();
    await server.close();
  });
  await (await fetch(`${server.base}/bundled`)).text();
  await (await undici.fetch(`${server.base}/npm-fetch`)).text();
  await (await undici.request(`${server.base}/npm-request`)).body.text();
  // The global fetch (bundled undici) now sends through the npm copy's Agent: two copies, one request.
  undici.setGlobalDispatcher(agent);
  await (await fetch(`${server.base}/bundled-through-npm-agent`)).text();
  const urls = traced.clientSpans().map((s) => new URL(String(s.tags['http.url'])).pathname).sort();
  t.same(urls, ['/bundled', '/bundled-through-npm-agent', '/npm-fetch', '/npm-request'], 'one span each, none twice');
  t.same(server.received.map((r) => r.traceparents.length), [1, 1, 1, 1], 'one traceparent each');
});
