// Micro benchmark of propagation: extract + inject of typical header sets, ops/s (median of rounds).
// Run: npm run build && node benchmarks/micro/propagation.mjs
// BENCH_DIST=/path/to/dist compares another build (e.g. the one before a change) with the same cases.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const dist = resolve(process.env.BENCH_DIST ?? new URL('../../dist', import.meta.url).pathname);
const { Tracer, FORMAT_HTTP_HEADERS, NoopSpanProcessor } = require(`${dist}/src/index.js`);
const { createPropagator } = require(`${dist}/src/propagation/factory.js`);

const w3cHeaders = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  baggage: 'userId=alice,serverNode=DF%2028,isProduction=false',
};
const b3Headers = { b3: '80f198ee56343ba8-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90' };
const jaegerHeaders = { 'uber-trace-id': '4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1', 'uberctx-user': 'alice' };

const tracer = new Tracer({ processor: new NoopSpanProcessor() });
const roundTrip = (names, headers) => {
  const tr = new Tracer({ processor: new NoopSpanProcessor(), propagator: createPropagator(names) });
  return () => {
    const ctx = tr.extract(FORMAT_HTTP_HEADERS, headers);
    tr.inject(ctx, FORMAT_HTTP_HEADERS, {});
  };
};

const cases = {
  // The figure reported in the issue: Tracer.extract + Tracer.inject of traceparent+tracestate+baggage.
  'tracer inject+extract (traceparent, tracestate, baggage)': () => {
    const ctx = tracer.extract(FORMAT_HTTP_HEADERS, w3cHeaders);
    tracer.inject(ctx, FORMAT_HTTP_HEADERS, {});
  },
  'extract only (traceparent, tracestate, baggage)': () => tracer.extract(FORMAT_HTTP_HEADERS, w3cHeaders),
  'b3 single inject+extract': roundTrip(['b3'], b3Headers),
  'jaeger inject+extract (1 baggage item)': roundTrip(['jaeger'], jaegerHeaders),
  'all five formats, W3C headers in': roundTrip(['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'], w3cHeaders),
};

// Wall-clock ops/s as the other micro benchmarks report it, plus CPU time per op, which stays
// meaningful when other processes share the machine (best of the rounds: least disturbed).
function measure(fn, ms) {
  let n = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  const used = process.cpuUsage(cpu);
  return { opsPerSec: n / (ms / 1000), cpuNs: ((used.user + used.system) * 1000) / n };
}

const only = process.env.BENCH_CASE;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundMs = Number(process.env.BENCH_MS ?? 300);
const results = [];
for (const [name, fn] of Object.entries(cases)) {
  if (only !== undefined && !name.includes(only)) continue;
  measure(fn, 100); // warm-up
  const samples = [];
  for (let r = 0; r < rounds; r++) samples.push(measure(fn, roundMs));
  const ops = samples.map((s) => s.opsPerSec).sort((a, b) => a - b);
  const opsPerSec = ops[Math.floor(ops.length / 2)];
  const cpuNsPerOp = Math.min(...samples.map((s) => s.cpuNs));
  results.push({ name, opsPerSec: Math.round(opsPerSec), nsPerOp: Math.round(1e9 / opsPerSec), cpuNsPerOp: Math.round(cpuNsPerOp) });
}
console.log(`node ${process.version}, ${dist}`);
console.table(results);
