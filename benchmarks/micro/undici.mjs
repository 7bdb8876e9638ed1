// Requests per second of a server whose handler makes one global `fetch` to a local backend, with
// fetch tracing off and on, interleaved in one process (rounds alternate so drift hits both alike).
// Run: npm run build && node benchmarks/micro/undici.mjs [rounds=6] [seconds-per-round=2] [concurrency=16]
import { createRequire } from 'node:module';
import http from 'node:http';
const require = createRequire(import.meta.url);
const { Tracer } = require('../../dist/src/index.js');
const { suppressTracing } = require('../../dist/src/util/suppress.js');
const { InstrumentationRun, buildAgentSettings } = require('../../dist/src/agent/kit.js');
const { defaultConfig } = require('../../dist/src/config/load.js');
const { instrumentations } = require('../../dist/instrumentations/index.js');
const { Pool } = require('undici7');

const [rounds = 6, seconds = 2, concurrency = 16] = process.argv.slice(2).map(Number);
// Counts finished spans, so the run shows the traced rounds really made one span per fetch.
let finishedSpans = 0;
const counting = { onEnd() { finishedSpans++; }, forceFlush: async () => {}, shutdown: async () => {} };
const tracer = new Tracer({ processor: counting });
// `fetch` run as the loader runs it: same context builder, same undo.
const fetchRun = new InstrumentationRun('fetch', instrumentations.find((d) => d.name === 'fetch').load(), { tracer, settings: buildAgentSettings(defaultConfig()) });

const listen = (handler) => new Promise((resolve) => {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => resolve(server));
});
const backend = await listen((req, res) => res.end('backend says hi'));
const backendUrl = `http://127.0.0.1:${backend.address().port}/`;
const front = await listen(async (req, res) => {
  const body = await (await fetch(backendUrl)).text();
  res.end(body);
});
const load = new Pool(`http://127.0.0.1:${front.address().port}`, { connections: concurrency });

async function round(traced) {
  if (traced) fetchRun.code.start(fetchRun.context(''));
  let done = 0;
  const spansBefore = finishedSpans;
  const until = performance.now() + seconds * 1000;
  // The load generator's own requests are npm undici ones, and untraced in both modes.
  const worker = () => suppressTracing(async () => {
    while (performance.now() < until) {
      await (await load.request({ path: '/', method: 'GET' })).body.text();
      done++;
    }
  });
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (traced) fetchRun.undo();
  if (traced && finishedSpans - spansBefore < done) throw new Error('fewer spans than fetches: the benchmark measures nothing');
  return done / seconds;
}

await round(false); // warm-up
const results = { off: [], on: [] };
for (let i = 0; i < rounds; i++) {
  results.off.push(await round(false));
  results.on.push(await round(true));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = median(results.off);
const on = median(results.on);
console.log(`node ${process.version}, ${rounds} rounds x ${seconds}s, concurrency ${concurrency}`);
console.log(`no tracing:    ${off.toFixed(0)} req/s (median)`);
console.log(`fetch tracing: ${on.toFixed(0)} req/s (median)`);
console.log(`ratio:         ${(on / off).toFixed(3)}`);
await load.close();
front.close();
backend.close();
