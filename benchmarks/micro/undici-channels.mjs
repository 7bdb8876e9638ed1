// CPU per outgoing request of the fetch and undici instrumentations' own work, without sockets: the
// `undici:request:create`, `:headers` and `:trailers` events of one request, published as undici
// publishes them (a request shaped as Node's bundled undici makes it for a global fetch), under an
// active server span, with both instrumentations started as the agent starts them (each subscribes
// to the same channels). Per build, and with no subscriber at all as the baseline; each a child
// process, alternated for many short trials; the fastest trial of each is the least disturbed.
// Run: npm run build && node benchmarks/micro/undici-channels.mjs <checkout A> [<checkout B>]
//        [--trials 15] [--requests 100000] [--unsampled]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'child') {
  const [, , , root, requestsArg, unsampledArg] = process.argv;
  const requests = Math.ceil(Number(requestsArg) / 16) * 16;
  const dc = await import('node:diagnostics_channel');
  const create = dc.channel('undici:request:create');
  const headers = dc.channel('undici:request:headers');
  const trailers = dc.channel('undici:request:trailers');
  let finished = 0;
  let run = (fn) => fn();
  if (root !== 'none') {
    const require = createRequire(path.join(root, 'package.json'));
    const at = (p) => require(path.join(root, p));
    const { Tracer } = at('dist/src/index.js');
    const { AlwaysOffSampler } = at('dist/src/sampling/sampler.js');
    const { InstrumentationRun, buildAgentSettings } = at('dist/src/agent/kit.js');
    const { defaultConfig } = at('dist/src/config/load.js');
    const { instrumentations } = at('dist/instrumentations/index.js');
    const processor = { onEnd() { finished++; }, forceFlush: async () => {}, shutdown: async () => {} };
    const tracer = new Tracer({ processor, ...(unsampledArg === 'unsampled' ? { sampler: new AlwaysOffSampler() } : {}) });
    const settings = buildAgentSettings(defaultConfig());
    for (const name of ['undici', 'fetch']) {
      const r = new InstrumentationRun(name, instrumentations.find((d) => d.name === name).load(), { tracer, settings });
      r.code.start(r.context(''));
    }
    const server = tracer.startSpan('GET', { tags: { 'span.kind': 'server' } });
    run = (fn) => tracer.scopeManager.run(server, fn);
  }
  const responseHeaders = [Buffer.from('content-type'), Buffer.from('text/plain'), Buffer.from('content-length'), Buffer.from('15')];
  let injected = 0;
  function addHeader(name, value) {
    this.headers.push(name, value);
    return this;
  }
  const one = () => {
    const request = {
      method: 'GET', path: '/users/42', origin: 'http://127.0.0.1:4000', completed: false, aborted: false,
      headers: ['accept', '*/*', 'accept-language', '*', 'sec-fetch-mode', 'cors', 'user-agent', 'node', 'accept-encoding', 'gzip, deflate'],
      addHeader,
    };
    create.publish({ request });
    headers.publish({ request, response: { statusCode: 200, headers: responseHeaders, statusText: 'OK' } });
    request.completed = true;
    trailers.publish({ request, trailers: [] });
    if (request.headers.length > 10) injected++;
  };
  // Requests come in batches, each batch a macrotask of its own as in a server: what lives until the
  // end of a job (WeakRef targets) or a young-generation collection is not kept across the whole run.
  const batch = () => { for (let i = 0; i < 16; i++) one(); };
  const loop = async () => {
    for (let i = 0; i < requests; i += 16) {
      run(batch);
      await new Promise(setImmediate);
    }
  };
  await loop(); // warm-up
  const before = process.cpuUsage();
  await loop();
  const used = process.cpuUsage(before);
  if (root !== 'none' && injected < 2 * requests) throw new Error(`injected into ${injected} of ${2 * requests}`);
  if (root !== 'none' && unsampledArg !== 'unsampled' && finished < 2 * requests) throw new Error(`finished ${finished} spans of ${2 * requests}`);
  process.stdout.write(String(((used.user + used.system) * 1000) / requests));
  process.exit(0);
}

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
const roots = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--trials', '--requests'].includes(argv[i - 1]))).map((r) => path.resolve(r));
if (roots.length === 0) {
  console.error('usage: node benchmarks/micro/undici-channels.mjs <checkout A> [<checkout B>] [--trials N] [--requests N] [--unsampled]');
  process.exit(2);
}
const trials = Number(flag('trials', '15'));
const requests = Number(flag('requests', '100000'));
const unsampled = argv.includes('--unsampled') ? 'unsampled' : 'sampled';
const self = fileURLToPath(import.meta.url);
const names = ['no subscriber', ...roots.map((r, i) => `${String.fromCharCode(65 + i)} ${r}`)];
const targets = ['none', ...roots];
const ns = targets.map(() => []);
const run = (root) => Number(execFileSync(process.execPath, [self, 'child', root, String(requests), unsampled], { encoding: 'utf8' }));
for (let t = 0; t < trials; t++) {
  const order = t % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i);
  for (const i of order) ns[i].push(run(targets[i]));
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${trials} trials x ${requests} requests, ${unsampled}; ns of CPU per request (create + headers + trailers events)`);
for (let i = 0; i < targets.length; i++) {
  const vsA = i > 1 ? `; B-A per trial median ${median(ns[i].map((x, t) => x - ns[1][t])).toFixed(0)}` : '';
  console.log(`${names[i].padEnd(36)} fastest ${Math.min(...ns[i]).toFixed(0)}, median ${median(ns[i]).toFixed(0)}${vsA}`);
}
