// Context under load: 1,000 concurrent requests, each with its own incoming trace, each making an
// outgoing call. Every client span and every downstream header must belong to its own request.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Collector } from '../helpers/collector.js';
import { startApp } from '../helpers/fixture-app.js';
import { APP, runLoad } from './helpers/load.js';

const CONCURRENT = 1000;

t.test(`${CONCURRENT} concurrent requests, each with its own trace, each calling downstream`, async (t) => {
  const traceIds = Array.from({ length: CONCURRENT }, () => randomBytes(16).toString('hex'));
  const parentIds = Array.from({ length: CONCURRENT }, () => randomBytes(8).toString('hex'));
  const seen = new Map<number, string>();
  // The downstream answers late, so all requests are in flight at once.
  const downstream = http.createServer((req, res) => {
    const i = Number(new URL(req.url!, 'http://d').searchParams.get('i'));
    seen.set(i, String(req.headers.traceparent ?? ''));
    setTimeout(() => res.end(`d${i}`), 50);
  });
  await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
  const collector = await Collector.start();
  const app = await startApp(APP, {
    agent: true,
    env: {
      DOWNSTREAM_URL: `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`,
      TRACING_ENDPOINT: collector.otlpUrl,
      TRACING_BATCH_DELAY_MS: '100',
      TRACING_BATCH_QUEUE_SIZE: '8192',
    },
  });
  t.teardown(async () => {
    await app.destroy();
    await collector.close();
    downstream.closeAllConnections();
    downstream.close();
  });

  const run = await runLoad(app.url, CONCURRENT, CONCURRENT, (i) => `/call?i=${i}`, (i) => ({ traceparent: `00-${traceIds[i]}-${parentIds[i]}-01` }));
  t.same(run.errors, [], 'every request answered');
  t.equal(run.answers.filter((a, i) => a.body === `d${i}`).length, CONCURRENT, 'every request got its own downstream answer');

  const spans = await collector.waitForSpans(2 * CONCURRENT, 20_000);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  let headersOk = 0;
  let clientsOk = 0;
  let serversOk = 0;
  for (let i = 0; i < CONCURRENT; i++) {
    const header = seen.get(i) ?? '';
    const [, tid, parent] = header.split('-');
    const client = parent === undefined ? undefined : byId.get(parent);
    if (tid === traceIds[i]) headersOk++;
    if (client !== undefined && client.kind === 3 && client.traceId === traceIds[i] && String(client.attributes['http.url']).endsWith(`/d?i=${i}`)) {
      clientsOk++;
      const server = byId.get(client.parentSpanId);
      if (server !== undefined && server.kind === 2 && server.traceId === traceIds[i] && server.parentSpanId === parentIds[i]) serversOk++;
    }
  }
  t.equal(headersOk, CONCURRENT, 'every downstream traceparent carries its own request\'s trace id');
  t.equal(clientsOk, CONCURRENT, 'every client span is in its own request\'s trace and is the downstream header\'s parent');
  t.equal(serversOk, CONCURRENT, 'every client span\'s parent is its own request\'s server span, child of the incoming parent');
  t.equal(collector.decodeErrors.length, 0, 'every export decodes with the official OTLP definitions');
});
