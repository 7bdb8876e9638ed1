// CPU per global `fetch` of what the fetch instrumentation adds, in one process: a server whose handler
// fetches from a local backend, loaded by an untraced npm undici Pool, all in this process. Rounds
// alternate no tracing and each build's fetch instrumentation (started and undone as the loader does),
// in a new order every round, so drift falls on all alike; the figure is the process's CPU (all
// threads) per request, whose difference is the instrumentation's cost (client span, inject, channel
// handlers), sampled or unsampled. No export: spans go to a counting processor.
// Run: npm run build && node benchmarks/micro/fetch-cpu.mjs <checkout A> [<checkout B>] [--rounds 9]
//        [--requests 4000] [--concurrency 8] [--unsampled]
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Pool } = require('undici7');

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
const roots = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--rounds', '--requests', '--concurrency'].includes(argv[i - 1])));
if (roots.length === 0) {
  console.error('usage: node benchmarks/micro/fetch-cpu.mjs <checkout A> [<checkout B>] [--rounds N] [--requests N] [--concurrency N] [--unsampled]');
  process.exit(2);
}
const rounds = Number(flag('rounds', '9'));
const requests = Number(flag('requests', '4000'));
const concurrency = Number(flag('concurrency', '8'));
const unsampled = argv.includes('--unsampled');

let finishedSpans = 0;
const counting = { onEnd() { finishedSpans++; }, forceFlush: async () => {}, shutdown: async () => {} };

/** One build's fetch instrumentation, run as the loader runs it; and its suppression, for the load. */
function build(root) {
  const at = (p) => require(path.join(path.resolve(root), p));
  const { Tracer } = at('dist/src/index.js');
  const { InstrumentationRun, buildAgentSettings } = at('dist/src/agent/kit.js');
  const { defaultConfig } = at('dist/src/config/load.js');
  const { instrumentations } = at('dist/instrumentations/index.js');
  const { AlwaysOffSampler } = at('dist/src/sampling/sampler.js');
  const tracer = new Tracer({ processor: counting, ...(unsampled ? { sampler: new AlwaysOffSampler() } : {}) });
  const run = new InstrumentationRun('fetch', instrumentations.find((d) => d.name === 'fetch').load(), { tracer, settings: buildAgentSettings(defaultConfig()) });
  return { label: root, start: () => run.code.start(run.context('')), stop: () => run.undo() };
}

const builds = roots.map(build);
const listen = (handler) => new Promise((resolve) => {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => resolve(server));
});
const backend = await listen((req, res) => res.end('backend says hi'));
const backendUrl = `http://127.0.0.1:${backend.address().port}/`;
let injected = 0;
const front = await listen(async (req, res) => {
  const body = await (await fetch(backendUrl)).text();
  res.end(body);
});
backend.on('request', (req) => { if (req.headers.traceparent !== undefined) injected++; });
const load = new Pool(`http://127.0.0.1:${front.address().port}`, { connections: concurrency });

async function once(mode) {
  if (mode !== null) mode.start();
  let left = requests;
  const spansBefore = finishedSpans;
  const injectedBefore = injected;
  const before = process.cpuUsage();
  const worker = async () => {
    while (left-- > 0) await (await load.request({ path: '/', method: 'GET' })).body.text();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(before);
  if (mode !== null) {
    mode.stop();
    if (injected - injectedBefore < requests) throw new Error(`${mode.label}: ${injected - injectedBefore} of ${requests} fetches carried a traceparent`);
    if (!unsampled && finishedSpans - spansBefore < requests) throw new Error(`${mode.label}: fewer spans than fetches`);
  }
  return (used.user + used.system) / requests;
}

const modes = [null, ...builds];
const names = ['no tracing', ...builds.map((b, i) => `${String.fromCharCode(65 + i)} ${b.label}`)];
const results = modes.map(() => []);
for (const m of modes) await once(m); // warm-up
for (let r = 0; r < rounds; r++) {
  const order = modes.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (const i of order) results[i].push(await once(modes[i]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${rounds} rounds x ${requests} requests, concurrency ${concurrency}, ${unsampled ? 'unsampled' : 'sampled'}; process CPU µs per request (front + backend + load)`);
for (let i = 0; i < modes.length; i++) {
  const diffs = results[i].map((x, r) => x - results[0][r]);
  const vsA = i > 1 ? `, vs A (per round) median ${median(results[i].map((x, r) => x - results[1][r])).toFixed(2)}` : '';
  console.log(`${names[i].padEnd(40)} median ${median(results[i]).toFixed(2)}, min ${Math.min(...results[i]).toFixed(2)}; over no tracing (per round) median ${median(diffs).toFixed(2)}${vsA}`);
}
await load.close();
front.close();
backend.close();
