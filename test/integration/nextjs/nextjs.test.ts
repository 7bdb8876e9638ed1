// Next.js (app router) under the agent: `next build` once, then `next start` under `--import`, with
// Next.js's own OpenTelemetry spans served by the agent. Three concurrent requests (two renders of the
// dynamic route /blog/[slug], one route handler calling fetch), each must be one trace: our server span
// named after the route template, Next.js's spans below it, the fetch client span a descendant of it, and
// the downstream service called in that trace. Once with the copy of the API compiled into Next.js (an
// app without @opentelemetry/api), once with the @opentelemetry/api package.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { send } from '../../helpers/fixture-app.js';
import { ancestors, KIND, newTraceId, traceOf } from '../../helpers/traces.js';
import { buildApp, startNext } from './next-app.js';

const CALLER = '00f067aa0ba902b7';
const OURS = '@acme/tracing-agent';

t.test('Next.js app router under the agent', async (t) => {
  const build = buildApp();
  t.comment(build.seconds === 0 ? `reused the build in ${build.dir}` : `next build took ${build.seconds.toFixed(1)} s`);
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const downstream = http.createServer((req, res) => res.end(JSON.stringify({ traceparent: req.headers.traceparent ?? null })));
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => downstream.close());

  for (const compiledApi of [true, false]) {
    t.test(compiledApi ? 'with the API compiled into Next.js' : 'with the @opentelemetry/api package', async (t) => {
      const app = await startNext(build.dir, {
        TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_LOG_LEVEL: 'debug',
        DOWNSTREAM_PORT: String((downstream.address() as AddressInfo).port),
      }, compiledApi);
      t.teardown(() => app.stop());
      const served = compiledApi ? /patched next\/dist\/compiled\/@opentelemetry\/api@/ : /patched @opentelemetry\/api@1\./;
      t.match(app.stderr, served, compiledApi ? 'Next.js loaded its compiled copy of the API, and the agent serves it' : 'Next.js loaded the @opentelemetry/api package, and the agent serves it');

      const requests = [
        { path: '/blog/hello-world', route: '/blog/[slug]', traceId: newTraceId() },
        { path: '/blog/second-post', route: '/blog/[slug]', traceId: newTraceId() },
        { path: '/api/posts', route: '/api/posts', traceId: newTraceId() },
      ];
      const replies = await Promise.all(requests.map((r) => send(app.port, { path: r.path, headers: { traceparent: `00-${r.traceId}-${CALLER}-01` } })));
      for (const [i, r] of requests.entries()) {
        t.equal(replies[i]!.status, 200, `${r.path} answers 200`, { body: replies[i]!.body.slice(0, 300) });
        const isServer = (s: ReceivedSpan) => s.scope.name === OURS && s.kind === KIND.server;
        const fetchDone = (spans: ReceivedSpan[]) => !r.path.startsWith('/api') || spans.some((s) => s.kind === KIND.client && s.attributes.component === 'fetch');
        const spans = await traceOf(collector, r.traceId, (s) => s.some(isServer) && s.some((x) => x.scope.name === 'next.js') && fetchDone(s));
        const server = spans.find(isServer);
        t.equal(server?.parentSpanId, CALLER, `${r.path}: our server span continues the caller's trace`);
        t.equal(server?.name, `GET ${r.route}`, `${r.path}: our server span is named after the route template`);
        t.equal(server?.attributes['http.route'], r.route, `${r.path}: with http.route`);
        const next = spans.filter((s) => s.scope.name === 'next.js');
        t.ok(next.length > 0, `${r.path}: Next.js's spans are exported under its scope`, { names: spans.map((s) => `${s.scope.name} ${s.name}`) });
        t.ok(next.every((s) => ancestors(spans, s).includes(server!.spanId)), `${r.path}: every Next.js span descends from our server span`);
        t.ok(next.some((s) => s.name === `GET ${r.route}` && s.kind === KIND.server), `${r.path}: Next.js's request span names the route too`);
        if (r.path.startsWith('/api')) {
          const client = spans.find((s) => s.scope.name === OURS && s.kind === KIND.client && s.attributes.component === 'fetch');
          t.ok(client && ancestors(spans, client).includes(server!.spanId), 'the fetch client span descends from the server span', { names: spans.map((s) => `${s.scope.name} ${s.name} ${s.kind}`) });
          const down = JSON.parse(replies[i]!.body).down as { traceparent: string | null };
          t.match(down.traceparent, new RegExp(`^00-${r.traceId}-[0-9a-f]{16}-0[13]$`), 'the downstream service was called in the request\'s trace');
        }
      }
      // One trace per request: no Next.js span of these requests went anywhere else.
      const ids = new Set(requests.map((r) => r.traceId));
      const strays = collector.spans.filter((s) => s.scope.name === 'next.js' && !ids.has(s.traceId) && /blog|posts/.test(`${s.name} ${s.attributes['next.route'] ?? ''}`));
      t.same(strays.map((s) => s.name), [], 'no span of these requests in another trace');
      collector.spans.length = 0;
      t.notMatch(app.stderr, /\[tracing-agent\] (warn|error)/, 'no agent warning');
    });
  }
});
