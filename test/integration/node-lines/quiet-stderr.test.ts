// The agent writes nothing to stderr at the default log level, on every Node line users run: users'
// own tests assert an empty stderr, and a warning the user did not cause (DEP0205 for module.register on
// Node 26, an ExperimentalWarning for the module hooks) makes the agent look broken. An ES-module and a
// CommonJS app serve one request that makes a global fetch and an http.get, under
// `--import ./register.mjs`, once exporting to a collector and once with the exporter's endpoint down.
import t from 'tap';
import { Collector } from '../../helpers/collector.js';
import { fixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { nodeLines } from './binaries.js';
import { downEndpoint, startDownstream } from './servers.js';

// Relative, as users write it: the apps run with the project root as their working directory.
const PRELOAD = ['--import', './register.mjs'];

for (const line of nodeLines()) {
  if (line.node === null) {
    t.test(line.label, { skip: line.skip ?? 'not installed' }, async () => {});
    continue;
  }
  const node = line.node;
  t.test(`${line.label}: nothing on stderr at the default log level`, async (t) => {
    // The four runs share nothing but the downstream server and the dead endpoint (a run exporting to a
    // collector has its own), and each spends most of its time waiting (start, the exporter's retry
    // window, exit): they run at once.
    t.jobs = 4;
    const downstream = await startDownstream();
    t.teardown(() => downstream.close());
    const downServer = await downEndpoint();
    t.teardown(() => downServer.close());

    for (const app of ['app.mjs', 'app.cjs']) {
      for (const exporter of ['collector', 'endpoint down'] as const) {
        t.test(`${app}, exporter to ${exporter}`, async (t) => {
          const collector = exporter === 'collector' ? await Collector.start() : null;
          if (collector !== null) t.teardown(() => collector.close());
          const endpoint = collector?.otlpUrl ?? downServer.url;
          // A short batch delay, so batches are sent (and, with the endpoint down, fail) while the app runs.
          // The lifetime only ends a hung app; four apps starting at once on a loaded machine took 22 s.
          const running = await startApp(fixturePath('node-lines', app), {
            node, agent: false, nodeArgs: PRELOAD, lifetimeMs: 90_000,
            env: { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: endpoint, TRACING_BATCH_DELAY_MS: '50', DOWNSTREAM_PORT: String(downstream.port) },
          });
          const reply = await send(running.port, { path: '/call' });
          t.same(JSON.parse(reply.body), { fetch: 200, httpGet: 200 }, 'the app served, with both downstream calls');
          // Give the exporter time for a failed send and its first retry before the app ends.
          await new Promise((resolve) => setTimeout(resolve, 700));
          await send(running.port, { path: '/shutdown' });
          const exit = await running.exited;
          t.equal(exit.code, 0, 'the app exited by itself with code 0');
          t.equal(running.stderr, '', 'stderr is empty: no deprecation, no experimental warning, no agent line');
          if (collector !== null) {
            await collector.waitForSpans(3, 2_000).catch(() => undefined);
            t.ok(collector.spans.length >= 3, 'and the agent was really on: the request\'s spans reached the collector');
          }
        });
      }
    }
  });
}
