// CPU per request of what the agent adds to express 5's own routing, in process and without sockets:
// an express app (one middleware, one parametrised route) handed plain request/response objects,
// so that the cost of the agent's wrappers of Router#handle and Layer#handleRequest (a fraction of a
// microsecond) shows through a shared machine's noise. Each request carries what the http
// instrumentation leaves on an unsampled one: a server span that records nothing (a stand-in here,
// under the symbol the agent reads; ignored without the agent). Two agent builds and a no-agent baseline, each a
// child process, alternated for many short trials; the fastest trial of each is the least disturbed.
// Run: node benchmarks/micro/express-router.mjs <checkout A> <checkout B> [trials=20] [requests=200000]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === 'child') {
  const express = (await import('express')).default;
  const requests = Number(process.argv[3]);
  const app = express();
  app.disable('x-powered-by');
  let answered = 0;
  app.use((req, res, next) => next());
  app.get('/users/:id', (req) => {
    if (req.params.id === '42') answered++;
  });
  const done = () => {
    throw new Error('no route matched');
  };
  const SERVER_SPAN = Symbol.for('acme.tracing.serverSpan');
  const unsampled = { isRecording: () => false };
  const one = () => {
    const req = { url: '/users/42', method: 'GET', headers: {}, [SERVER_SPAN]: unsampled };
    const res = { locals: null };
    app.handle(req, res, done);
  };
  for (let i = 0; i < requests; i++) one(); // warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < requests; i++) one();
  const used = process.cpuUsage(before);
  if (answered !== 2 * requests) throw new Error(`answered ${answered} of ${2 * requests}`);
  process.stdout.write(String(((used.user + used.system) * 1000) / requests));
  process.exit(0);
}

const [a, b, trialsArg, requestsArg] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  console.error('usage: node benchmarks/micro/express-router.mjs <checkout A> <checkout B> [trials] [requests]');
  process.exit(2);
}
const trials = Number(trialsArg ?? 20);
const requests = Number(requestsArg ?? 200000);
const self = fileURLToPath(import.meta.url);
const builds = { 'no agent': null, A: path.resolve(a), B: path.resolve(b) };
const names = Object.keys(builds);
const run = (root) => Number(execFileSync(process.execPath, [
  ...(root === null ? [] : ['--import', path.join(root, 'register.mjs')]), self, 'child', String(requests),
], { env: { ...process.env, TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'error' }, encoding: 'utf8' }));
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

console.log(`node ${process.version}, ${trials} trials x ${requests} requests; A = ${builds.A}, B = ${builds.B}`);
const ns = Object.fromEntries(names.map((n) => [n, []]));
for (let t = 0; t < trials; t++) {
  for (const name of t % 2 === 0 ? names : [...names].reverse()) ns[name].push(run(builds[name]));
}
for (const [label, pick] of [['fastest', (xs) => Math.min(...xs)], ['median', median]]) {
  const base = pick(ns['no agent']);
  console.log(`express routing: ${label} ns CPU per request: ${names.map((n) => `${n} ${pick(ns[n]).toFixed(0)}${n === 'no agent' ? '' : ` (agent +${(pick(ns[n]) - base).toFixed(0)})`}`).join(', ')}; B − A ${(pick(ns.B) - pick(ns.A)).toFixed(0)} ns`);
}
