// "Nothing changes" for fetch and undici: the same calls from the same app, without and with the agent,
// give the same statuses, response headers (minus `date`/`keep-alive`) and bodies; the only difference
// the downstream server may see is our trace headers.
import t from 'tap';
import { Collector } from '../../helpers/collector.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';

const APIS = ['fetch', 'undici-fetch', 'request', 'pool'];
const CASES = ['path=/echo', 'path=/stream', 'path=/status/404', 'path=/status/503', 'mode=abort&path=/slow', 'mode=timeout&path=/slow'];

/** The app's reply with what legitimately differs between runs taken out: our headers, the back port. */
function normalize(body: string): unknown {
  const reply = JSON.parse(body) as { body?: string };
  if (reply.body?.startsWith('{') === true) {
    const echo = JSON.parse(reply.body) as { headers: Record<string, string> };
    delete echo.headers.traceparent;
    delete echo.headers.tracestate;
    echo.headers.host = echo.headers.host!.replace(/:\d+$/, ':<port>');
    reply.body = echo as never;
  }
  return reply;
}

async function runAll(agent: boolean, collectorUrl: string): Promise<Record<string, unknown>> {
  const running = await startApp(fixturePath('undici', 'app.mjs'), {
    agent,
    env: { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collectorUrl, TRACING_BATCH_DELAY_MS: '20' },
  });
  const results: Record<string, unknown> = {};
  try {
    for (const api of APIS) {
      for (const c of CASES) {
        const r = await send(running.ports.front!, { path: `/call?api=${api}&${c}` });
        results[`${api} ${c}`] = { status: r.status, reply: normalize(r.body) };
      }
    }
  } finally {
    await running.stop();
  }
  return results;
}

t.test('fetch and undici calls give the same responses with and without the agent', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const without = await runAll(false, collector.otlpUrl);
  const withAgent = await runAll(true, collector.otlpUrl);
  await collector.waitForSpans(1);
  t.ok(collector.spans.some((s) => s.attributes.component === 'fetch'), 'the agent was really tracing fetch');
  for (const name of Object.keys(without)) t.same(withAgent[name], without[name], name);
  t.match(without['fetch path=/stream'], { status: 200, reply: { status: 200, body: 'part 0;part 1;part 2;end', headers: { 'transfer-encoding': 'chunked' } } });
  t.match(without['pool path=/status/503'], { status: 200, reply: { status: 503 } });
});
