// The agent's own work per database span, without a driver or a server: start a client span with
// the tags a pg query gets, finish it, then map and OTLP-encode finished spans in batches of 512 (as
// the batch processor does). Finished spans are held in a 512-span batch as in the real processor,
// so the garbage collector sees spans live about as long as they do in an app.
// Run: npm run build && node benchmarks/db/span-micro.mjs [dist directory=dist]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
const require = createRequire(import.meta.url);
const { Tracer } = require(path.join(dist, 'src/index.js'));
const { startDbSpan, finishDbSpan, readDbOptions } = require(path.join(dist, 'instrumentations/db-common/client-span.js'));
const { mapSpan } = require(path.join(dist, 'src/export/span-model.js'));
const { OtlpProtobufEncoder } = require(path.join(dist, 'src/export/otlp-protobuf.js'));

const BATCH = 512;
let batch = [];
const processor = { onEnd(span) { if (batch.push(span) === BATCH) batch = []; }, forceFlush: async () => {}, shutdown: async () => {} };
const tracer = new Tracer({ processor });
// Builds before the agent-wide settings (src/agent/kit.js) read everything from the first argument.
const settings = (() => {
  try {
    const { buildAgentSettings } = require(path.join(dist, 'src/agent/kit.js'));
    return buildAgentSettings(require(path.join(dist, 'src/config/load.js')).defaultConfig());
  } catch {
    return undefined;
  }
})();
const options = readDbOptions({}, settings);
const tags = { component: 'pg', dbType: 'sql', instance: 'postgres', user: 'acme', statement: 'SELECT 1', hostname: '127.0.0.1', port: 54329 };
tracer.scopeManager.activate(tracer.startSpan('request'), false);
// Builds before the client spans moved to ctx.startClientSpan take (tracer, options, ...); later
// ones the instrumentation's ctx, built as the loader builds it.
const startSpan = startDbSpan.length === 5
  ? () => startDbSpan(tracer, options, 'SELECT', tags)
  : (() => {
    const { InstrumentationRun } = require(path.join(dist, 'src/agent/kit.js'));
    const ctx = new InstrumentationRun('pg', { options: readDbOptions }, { tracer, settings }, {}).context('8.0.0');
    return () => startDbSpan(ctx, 'SELECT', tags);
  })();
const startFinish = () => finishDbSpan(startSpan());

/** Best of five runs of `fn(n)`, in ns per operation: the least disturbed by other processes. */
function measure(n, fn) {
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const t = process.hrtime.bigint();
    fn(n);
    const ns = Number(process.hrtime.bigint() - t) / n;
    if (r > 0) best = Math.min(best, ns); // run 0 warms up
  }
  return best;
}

const spans = [];
for (let i = 0; i < BATCH; i++) {
  const span = startSpan();
  finishDbSpan(span);
  spans.push(span);
}
const mapOptions = { exportBaggage: false };
const encoder = new OtlpProtobufEncoder();
const mapped = spans.map((s) => mapSpan(s, mapOptions));
const rows = {
  'start + finish a db span': measure(200_000, (n) => { for (let i = 0; i < n; i++) startFinish(); }),
  'mapSpan (per span)': measure(100 * BATCH, (n) => { for (let i = 0; i < n / BATCH; i++) for (const s of spans) mapSpan(s, mapOptions); }),
  'OTLP protobuf encode (per span)': measure(100 * BATCH, (n) => { for (let i = 0; i < n / BATCH; i++) encoder.encode(mapped, []); }),
};
console.log(`node ${process.version}, ${path.relative(root, dist) || '.'}: best of 5 runs, ns per span`);
for (const [name, ns] of Object.entries(rows)) console.log(`${name.padEnd(34)} ${ns.toFixed(0).padStart(6)}`);
