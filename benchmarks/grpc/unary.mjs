// CPU per unary gRPC call (client and server in one process, so each call is a client span and a server
// span): no agent, the agent with its grpc instrumentation off (what the agent costs this load anyway:
// async context, the http2 session), and the agent. Interleaved rounds in one run, so a shared machine's
// drift hits every variant alike. Spans go over OTLP/protobuf to a local sink that only counts bytes.
// Each call is made under a span of its own (standing in for the request that makes it), so a traced
// call costs three spans: that one, the client's and the server's.
// Run: node benchmarks/grpc/unary.mjs [rounds=7] [calls=2000] [concurrency=16]   (after npm run build)
import { fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

if (process.argv[2] === 'child') await child();
else await parent();

async function child() {
  const grpc = require('@grpc/grpc-js');
  const protoLoader = require('@grpc/proto-loader');
  const def = protoLoader.loadSync(path.join(root, 'test/integration/grpc/fixtures/shared/echo.proto'), { keepCase: true });
  const demo = grpc.loadPackageDefinition(def).demo.v1;
  const server = new grpc.Server();
  server.addService(demo.Echo.service, { Unary: (call, cb) => cb(null, { text: call.request.text }) });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const client = new demo.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const tracer = require(root).globalTracer();
  const call = () => new Promise((resolve, reject) => client.Unary({ text: 'ping' }, (e, r) => (e ? reject(e) : resolve(r))));
  const once = () => tracer.startActiveSpan('request', undefined, call);
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') {
      client.close();
      server.forceShutdown();
      process.disconnect();
      return;
    }
    const before = process.cpuUsage();
    const started = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < msg.calls) {
        next++;
        await once();
      }
    };
    await Promise.all(Array.from({ length: msg.concurrency }, worker));
    const cpu = process.cpuUsage(before);
    process.send({ cpuMicros: (cpu.user + cpu.system) / msg.calls, wallMicros: Number(process.hrtime.bigint() - started) / 1e3 / msg.calls });
  });
  process.send({ ready: true });
}

async function parent() {
  const [rounds = 7, calls = 2000, concurrency = 16] = process.argv.slice(2).map(Number);
  const variants = {
    'no agent': { agent: false },
    'agent, grpc off': { agent: true, env: { TRACING_DISABLED_INSTRUMENTATIONS: 'grpc' } },
    agent: { agent: true },
  };
  let bytes = 0;
  const sink = http.createServer((req, res) => req.on('data', (c) => (bytes += c.length)).on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()));
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const procs = {};
  for (const [name, v] of Object.entries(variants)) {
    const env = { ...process.env, TRACING_ENDPOINT: `http://127.0.0.1:${sink.address().port}/v1/traces`, TRACING_BATCH_QUEUE_SIZE: '100000', ...v.env };
    const proc = fork(fileURLToPath(import.meta.url), ['child'], { env, execArgv: v.agent ? ['--import', path.join(root, 'register.mjs')] : [], stdio: 'inherit' });
    await new Promise((r) => proc.once('message', r));
    procs[name] = proc;
  }
  const run = (name) => new Promise((resolve) => {
    procs[name].once('message', resolve);
    procs[name].send({ cmd: 'run', calls, concurrency });
  });
  const names = Object.keys(variants);
  for (const n of names) await run(n); // warm-up
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) for (const n of r % 2 === 0 ? names : [...names].reverse()) results[n].push(await run(n));
  for (const p of Object.values(procs)) p.send({ cmd: 'stop' });
  sink.close();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results['no agent'].map((m) => m.cpuMicros));
  console.log(`@grpc/grpc-js ${require('@grpc/grpc-js/package.json').version}, unary calls, client and server in one process, ${calls} calls x ${rounds} rounds, ${concurrency} in flight, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| variant | CPU µs/call (median) | × no agent | wall µs/call (median) |');
  console.log('|---|---|---|---|');
  for (const n of names) {
    const cpu = median(results[n].map((m) => m.cpuMicros));
    console.log(`| ${n} | ${cpu.toFixed(1)} | ${(cpu / base).toFixed(2)} | ${median(results[n].map((m) => m.wallMicros)).toFixed(1)} |`);
  }
}
