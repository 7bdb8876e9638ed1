// What the span path keeps alive across V8's scavenges, per 1,000 requests, counted by --trace-gc-nvp (copied +
// promoted: the figure V8 adds up to decide when the new space grows; see ./gc-survival.mjs). Each request is a
// server span with a client span under it whose context is injected into an outgoing request's headers (W3C), as
// an app that calls a downstream service does; --in-flight of them are open at once, finished oldest first.
// Spans go to a processor that keeps nothing, so what survives is the request path's own state.
// Usage: node benchmarks/memory/kept-per-span.mjs [--requests 200000] [--in-flight 8] [--runs 3]
//        [--dist /path/to/dist] [--inject yes|no] [--node /path/to/node]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};

if (process.env.KEPT_PER_SPAN_CHILD !== undefined) {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const dist = process.env.KEPT_PER_SPAN_CHILD;
  const { Tracer, FORMAT_HTTP_HEADERS, NoopSpanProcessor } = require(`${dist}/src/index.js`);
  const tracer = new Tracer({ processor: new NoopSpanProcessor() });
  const requests = Number(process.env.KEPT_REQUESTS);
  const inFlight = Number(process.env.KEPT_IN_FLIGHT);
  const inject = process.env.KEPT_INJECT === 'yes';
  const open = [];
  const one = () => {
    const server = tracer.startSpan('GET /', { tags: { 'span.kind': 'server', 'http.method': 'GET' } });
    const client = tracer.startSpan('GET', { childOf: server, tags: { 'span.kind': 'client' } });
    if (inject) tracer.inject(client.context(), FORMAT_HTTP_HEADERS, {});
    open.push(server, client);
    if (open.length > inFlight * 2) {
      open.shift().finish();
      open.shift().finish();
    }
  };
  // Warm-up: the first pools, compiles and scavenges are not the steady path.
  for (let i = 0; i < 20000; i++) one();
  // Full collections mark the window in --trace-gc-nvp's own output (its lines are not in order with ours).
  globalThis.gc();
  for (let i = 0; i < requests; i++) one();
  globalThis.gc();
} else {
  const node = arg('node', process.execPath);
  const runs = Number(arg('runs', '3'));
  const dist = path.resolve(arg('dist', path.join(here, '..', '..', 'dist')));
  const env = { ...process.env, KEPT_PER_SPAN_CHILD: dist, KEPT_REQUESTS: arg('requests', '200000'), KEPT_IN_FLIGHT: arg('in-flight', '8'), KEPT_INJECT: arg('inject', 'yes') };
  console.log(`${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}; ${dist}; ${env.KEPT_REQUESTS} requests, ${env.KEPT_IN_FLIGHT} in flight, inject ${env.KEPT_INJECT}`);
  for (let r = 0; r < runs; r++) {
    const out = execFileSync(node, ['--expose-gc', '--trace-gc-nvp', fileURLToPath(import.meta.url)], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
    const lines = out.split('\n').filter((l) => / gc=/.test(l));
    const marks = lines.flatMap((l, i) => (/ gc=s /.test(l) ? [] : [i]));
    const window = lines.slice(marks.at(-2) + 1, marks.at(-1)).map((l) => Object.fromEntries(l.split(/\s+/).filter((x) => x.includes('=')).map((x) => x.split('='))));
    const sum = (k) => window.reduce((a, s) => a + Number(s[k] ?? 0), 0) / 1024;
    const per = 1000 / Number(env.KEPT_REQUESTS);
    console.log(`run ${r + 1}: ${window.length} scavenges, ${(sum('allocated') / 1024).toFixed(1)} MB allocated; KB kept per 1,000 requests ${((sum('new_space_survived') + sum('promoted')) * per).toFixed(2)} (copied ${(sum('new_space_survived') * per).toFixed(2)}, promoted ${(sum('promoted') * per).toFixed(2)})${window.at(-1)?.new_space_capacity === undefined ? '' : `; semi-space at the end ${Number(window.at(-1).new_space_capacity) / 2 ** 20} MB`}`);
  }
}
