// Our own JavaScript for one traced request's spans, build against build, without sockets: start a
// server span (new trace, or continuing an extracted `traceparent`), seven tags, a child client span
// whose context is injected into outgoing headers (or not), finish both, and encode them into the
// OTLP/protobuf batch buffer (sealed every 512 spans and released, as the batch processor and the
// exporter do). CPU of the process per request (process.cpuUsage over --iterations requests, GC
// included), each sample a fresh child process, builds alternating sample by sample; medians. For
// levers of a few hundred nanoseconds that the server-level benchmarks (benchmarks/cpu) cannot
// resolve on a shared machine.
// Usage: node benchmarks/micro/span-path.mjs --agents /build/a,/build/b [--iterations 200000] [--rounds 7]
//        [--cases root,root+inject,remote+inject,unsampled]
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const iterations = Number(arg('iterations', '200000'));
const rounds = Number(arg('rounds', '7'));
const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
const cases = arg('cases', 'root,root+inject,remote+inject,unsampled').split(',');

if (process.argv.includes('--child')) {
  const root = arg('root', '');
  const which = arg('case', 'root');
  const { createRequire } = await import('node:module');
  const require = createRequire(path.join(root, 'package.json'));
  const { Tracer, AlwaysOffSampler, FORMAT_HTTP_HEADERS } = require(path.join(root, 'dist/src/index.js'));
  const { OtlpBatchEncoder, encodeEnvelope } = require(path.join(root, 'dist/src/export/otlp-protobuf.js'));
  const { buildResource } = require(path.join(root, 'dist/src/export/resource.js'));
  const encoder = new OtlpBatchEncoder(encodeEnvelope(buildResource({ 'service.name': 'span-path' })), false);
  let sealedBytes = 0;
  const processor = {
    onEnd(span) {
      encoder.append(span);
      if (encoder.openCount >= 512) {
        const batch = encoder.seal();
        sealedBytes += batch.bytes.length;
        // As the exporter does once the body is sent (builds before 4f1f9b5 have no release: a no-op).
        batch.release?.();
      }
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const tracer = new Tracer({ processor, sampler: which === 'unsampled' ? new AlwaysOffSampler() : undefined });
  const incoming = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const remote = which.startsWith('remote');
  const inject = which.includes('inject');
  const request = (i) => {
    const parent = remote ? tracer.extract(FORMAT_HTTP_HEADERS, incoming) : null;
    const span = tracer.startSpan('GET', { childOf: parent, ignoreActiveSpan: true });
    span.setTag('span.kind', 'server');
    span.setTag('component', 'http');
    span.setTag('http.method', 'GET');
    span.setTag('http.url', 'http://shop.local/orders/17');
    span.setTag('peer.ipv4', '127.0.0.1');
    span.setTag('peer.port', 40000 + (i & 1023));
    const client = tracer.startSpan('GET', { childOf: span });
    client.setTag('span.kind', 'client');
    if (inject) {
      const headers = {};
      tracer.inject(client, FORMAT_HTTP_HEADERS, headers);
    }
    client.finish();
    span.setTag('http.status_code', 200);
    span.finish();
  };
  for (let i = 0; i < 20000; i++) request(i);
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) request(i);
  const cpu = process.cpuUsage(start);
  process.stdout.write(JSON.stringify({ nsPerRequest: ((cpu.user + cpu.system) * 1000) / iterations, sealedBytes }));
  process.exit(0);
}

function sample(agent, which) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), '--child', '--root', agent, '--case', which, '--iterations', String(iterations)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const results = new Map();
for (let r = 0; r < rounds; r++) {
  for (const which of cases) {
    const order = r % 2 === 0 ? agents : [...agents].reverse();
    for (const agent of order) {
      const key = `${which}\t${agent}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push((await sample(agent, which)).nsPerRequest);
    }
  }
  process.stderr.write(`round ${r + 1}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${iterations} requests (server span + client span) per sample, ${rounds} rounds, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}\n`);
console.log('| case | build | CPU ns per request (median) | samples |\n|---|---|---:|---|');
for (const [key, xs] of results) {
  const [which, agent] = key.split('\t');
  console.log(`| ${which} | ${agent} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(', ')} |`);
}
