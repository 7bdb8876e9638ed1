// CPU per traced request of what the agent adds on the request/response event path, in process and
// without sockets, so that a change of a fraction of a microsecond shows through a shared machine's
// noise: a real http.Server, IncomingMessage and ServerResponse; the 'request' event goes through the
// server's emit (span started, handler run), then the body's 'data' and 'end', the response's
// 'finish' and 'close' are emitted from outside the request's context, as the socket does. Two
// agent builds and a no-agent baseline, each a child process, alternated for many short trials; the
// fastest trial of each is the least disturbed figure. Requests run in batches of 50 with a turn of
// the event loop between batches, so that what they queue for later ticks runs and is counted.
//   scenario body:  the handler listens to 'data' and 'end', and answers on 'end' (a body read the classic way)
//   scenario plain: the handler listens to nothing and answers at once (a hello world)
//   scenario otel:  the handler starts and ends one OpenTelemetry API span (startActiveSpan, one
//                   attribute): the agent's API bridge (without the agent the API is a no-op)
//   scenario express: an express 5 app (one middleware, GET /users/:id answered with res.json), the
//                   one of benchmarks/overhead/apps/express.mjs: the http and express instrumentations
// Run: node benchmarks/micro/request-events.mjs <checkout A> <checkout B> [trials=20] [requests=20000] [scenarios=plain,body]
// BENCH_SAMPLER=always_off measures unsampled requests (TRACING_SAMPLER).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'child') {
  const http = await import('node:http');
  const [scenario, requests] = [process.argv[3], Number(process.argv[4])];
  let bytes = 0;
  const onData = (chunk) => (bytes += chunk.length);
  const onEnd = () => {};
  const otelTracer = scenario === 'otel' ? (await import('@opentelemetry/api')).trace.getTracer('bench') : null;
  // The agent registers with the API a tick after it loads (an SDK loaded beside it would win).
  if (otelTracer !== null) await new Promise((resolve) => setImmediate(resolve));
  const onOtelSpan = (span) => {
    span.setAttribute('app.user', 'ada');
    span.end();
  };
  // express 5 as benchmarks/overhead/apps/express.mjs has it: one middleware, a parametrised route.
  let app = null;
  if (scenario === 'express') {
    const express = (await import('express')).default;
    app = express();
    app.use((req, res, next) => next());
    app.get('/users/:id', (req, res) => res.json({ id: req.params.id, name: 'Ada' }));
  }
  // Every scenario's handler ends its response, as an app does: a response that never finishes
  // takes the agent's aborted-connection path (error tag and log), which is not a request's cost.
  const server = http.createServer(scenario === 'body'
    ? (req, res) => {
        req.on('data', onData);
        req.on('end', () => res.end('ok'));
      }
    : scenario === 'otel'
      ? (req, res) => {
          otelTracer.startActiveSpan('handle', onOtelSpan);
          res.end('hello');
        }
      : app ?? ((req, res) => res.end('hello')));
  // The connection, as far as a response uses it: writes are accepted at once and their callback
  // (Node's onFinish, which marks the response writableFinished and emits 'finish') is kept and
  // called later from outside the request's context, as the socket does once the bytes are out.
  let written = null;
  const socket = {
    remoteAddress: '127.0.0.1', remotePort: 40000, writable: true, writableLength: 0, destroyed: false,
    _httpMessage: null, _writableState: { corked: 0 },
    on() {}, once() {}, removeListener() {}, cork() {}, uncork() {},
    write(data, encoding, callback) {
      if (typeof callback === 'function') written = callback;
      return true;
    },
  };
  const chunk = Buffer.alloc(64);
  const headers = { host: '127.0.0.1:3000', 'content-length': '64' };
  // Node's own 'finish' listener of every server response (resOnFinish, bound per request in
  // parserOnIncoming before 'request' is emitted): it detaches the socket.
  function onResponseFinish(res) {
    res.detachSocket(socket);
  }
  const one = () => {
    const req = new http.IncomingMessage(socket);
    req.method = app === null ? 'POST' : 'GET';
    req.url = app === null ? '/' : '/users/42';
    req.headers = headers;
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', onResponseFinish.bind(undefined, res));
    server.emit('request', req, res);
    // Later ticks, from the connection: outside the request's context.
    req.emit('data', chunk);
    req.emit('end');
    const finished = written;
    written = null;
    if (finished === null) throw new Error(`${scenario}: the handler did not end its response`);
    finished();
    if (!res.writableFinished) throw new Error(`${scenario}: the response is not writableFinished`);
    res.emit('close');
  };
  // In batches, with the loop turning between them as a server's does: what the requests queue with
  // process.nextTick or setImmediate (a body's resume and 'end', Node's own bookkeeping) runs, and
  // is counted, instead of piling up over the whole trial and holding every request until its end.
  const BATCH = 50;
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const runAll = async () => {
    for (let i = 0; i < requests; i += BATCH) {
      for (let j = 0; j < BATCH; j++) one();
      await turn();
    }
  };
  await runAll(); // warm-up
  const before = process.cpuUsage();
  await runAll();
  const used = process.cpuUsage(before);
  process.stdout.write(String(((used.user + used.system) * 1000) / requests));
  process.exit(0);
}

const [a, b, trialsArg, requestsArg, scenariosArg] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  console.error('usage: node benchmarks/micro/request-events.mjs <checkout A> <checkout B> [trials] [requests]');
  process.exit(2);
}
const trials = Number(trialsArg ?? 20);
const requests = Number(requestsArg ?? 20000);
const self = fileURLToPath(import.meta.url);
const builds = { 'no agent': null, A: path.resolve(a), B: path.resolve(b) };
const names = Object.keys(builds);
const run = (root, scenario) => Number(execFileSync(process.execPath, [
  ...(root === null ? [] : ['--import', path.join(root, 'register.mjs')]), self, 'child', scenario, String(requests),
], { env: { ...process.env, TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'error', ...(process.env.BENCH_SAMPLER ? { TRACING_SAMPLER: process.env.BENCH_SAMPLER } : {}) }, encoding: 'utf8' }));
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

console.log(`node ${process.version}, ${trials} trials x ${requests} requests, sampler ${process.env.BENCH_SAMPLER ?? 'default'}; A = ${builds.A}, B = ${builds.B}`);
for (const scenario of (scenariosArg ?? 'plain,body').split(',')) {
  const ns = Object.fromEntries(names.map((n) => [n, []]));
  for (let t = 0; t < trials; t++) {
    for (const name of t % 2 === 0 ? names : [...names].reverse()) ns[name].push(run(builds[name], scenario));
  }
  for (const [label, pick] of [['fastest', (xs) => Math.min(...xs)], ['median', median]]) {
    const base = pick(ns['no agent']);
    console.log(`${scenario}: ${label} ns CPU per request: ${names.map((n) => `${n} ${pick(ns[n]).toFixed(0)}${n === 'no agent' ? '' : ` (agent +${(pick(ns[n]) - base).toFixed(0)})`}`).join(', ')}; B − A ${(pick(ns.B) - pick(ns.A)).toFixed(0)} ns`);
  }
}
