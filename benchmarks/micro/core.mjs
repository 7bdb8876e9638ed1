// Micro benchmarks of the core: operations per second, median of several rounds.
// Run: npm run bench:micro (after npm run build).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const api = require('../../dist/src/index.js');
const { Tracer, AlwaysOffSampler, FORMAT_HTTP_HEADERS, NoopSpanProcessor } = api;

const sampled = new Tracer({ processor: new NoopSpanProcessor() });
const unsampled = new Tracer({ sampler: new AlwaysOffSampler() });
const incoming = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  baggage: 'userId=alice,serverNode=DF%2028,isProduction=false',
};

const cases = {
  'unsampled span start+finish': () => unsampled.startSpan('op').finish(),
  'sampled span start+finish, 3 tags': () => {
    const s = sampled.startSpan('op');
    s.setTag('http.method', 'GET');
    s.setTag('http.status_code', 200);
    s.setTag('component', 'http');
    s.finish();
  },
  'startActiveSpan with a callback': () => sampled.startActiveSpan('op', undefined, (s) => s),
  'scope activate+close': (() => {
    const span = sampled.startSpan('held');
    return () => sampled.scopeManager.activate(span, false).close();
  })(),
  'inject+extract (traceparent, tracestate, baggage)': () => {
    const ctx = sampled.extract(FORMAT_HTTP_HEADERS, incoming);
    const out = {};
    sampled.inject(ctx, FORMAT_HTTP_HEADERS, out);
  },
};

function measure(fn, ms) {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  return n / (ms / 1000);
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundMs = Number(process.env.BENCH_MS ?? 300);
const results = [];
for (const [name, fn] of Object.entries(cases)) {
  measure(fn, 100); // warm-up
  const samples = [];
  for (let r = 0; r < rounds; r++) samples.push(measure(fn, roundMs));
  samples.sort((a, b) => a - b);
  const opsPerSec = samples[Math.floor(samples.length / 2)];
  results.push({ name, opsPerSec: Math.round(opsPerSec), nsPerOp: Math.round(1e9 / opsPerSec) });
}
console.log(`node ${process.version}`);
console.table(results);
