// Requests per second of a one-route app per framework, without and with the framework + http
// instrumentations patched in, interleaved, each server in its own process. Spans are recorded
// (always sampled) and dropped at the processor, so this measures the request path, not export.
//
//   npx tsc -p . && node benchmarks/frameworks.mjs [seconds=3] [rounds=3] [connections=16]
//
// 'http only' patches just the http instrumentation, to tell the framework part's share.
// Prints one line per framework: median req/s without and with, and the server's CPU time per
// request without and with; the ratio is of CPU per request (without / with, aim: >= 0.95), which a
// machine shared with other work disturbs far less than throughput does.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);

const apps = {
  express4: () => one(require('express4')),
  express5: () => one(require('express5')),
  fastify4: () => fastifyApp(require('fastify4')),
  fastify5: () => fastifyApp(require('fastify5')),
  koa2: () => koaApp(require('koa2')),
  koa3: () => koaApp(require('koa3')),
  hapi21: () => hapiApp(),
};
const instrumentationOf = {
  express4: ['express', 'express4'], express5: ['express', 'express5'],
  fastify4: ['fastify', 'fastify4'], fastify5: ['fastify', 'fastify5'],
  koa2: ['koa', 'koa2'], koa3: ['koa', 'koa3'], hapi21: ['hapi', '@hapi/hapi/lib/request.js'],
};

function one(express) {
  const app = express();
  app.get('/users/:id', (req, res) => res.send('ok'));
  return (port) => new Promise((r) => { const s = app.listen(port, '127.0.0.1', () => r(s)); });
}
function fastifyApp(fastify) {
  const app = fastify();
  app.get('/users/:id', async () => 'ok');
  return async (port) => { await app.listen({ port, host: '127.0.0.1' }); return app.server; };
}
function koaApp(Koa) {
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new Router();
  router.get('/users/:id', (ctx) => { ctx.body = 'ok'; });
  app.use(router.routes());
  return (port) => new Promise((r) => { const s = app.listen(port, '127.0.0.1', () => r(s)); });
}
function hapiApp() {
  const Hapi = require('@hapi/hapi');
  return async (port) => {
    const server = Hapi.server({ port, host: '127.0.0.1' });
    server.route({ method: 'GET', path: '/users/{id}', handler: () => 'ok' });
    await server.start();
    return server.listener;
  };
}

/** The agent's pieces, wired by hand as the loader would (a tracer whose spans are dropped). */
function instrument(name, mode) {
  const { Tracer } = require(`${root}dist/src/api/tracer.js`);
  const { NoopSpanProcessor } = require(`${root}dist/src/export/span-processor.js`);
  const { log } = require(`${root}dist/src/util/log.js`);
  const tracer = new Tracer({ processor: new NoopSpanProcessor() });
  const ctx = {
    tracer, config: {}, log, moduleVersion: '',
    wrap(target, key, wrapper) { target[key] = wrapper(target[key]); return true; },
    unwrap() {},
  };
  const httpInst = require(`${root}dist/instrumentations/http.js`).default;
  httpInst.patch(require('node:http'), ctx, httpInst.modules[0]);
  if (mode === 'http') return;
  const [inst, mod] = instrumentationOf[name];
  const fw = require(`${root}dist/instrumentations/${inst}.js`).default;
  fw.patch(require(mod), ctx, fw.modules[0]);
}

async function serve(name, mode) {
  if (mode !== 'off') instrument(name, mode);
  const server = await apps[name]()(0);
  process.stdout.write(`${server.address().port}\n`);
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send(u.user + u.system);
  });
}

function cpuOf(child) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send('usage');
  });
}

function load(port, seconds, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = 0;
  const end = Date.now() + seconds * 1000;
  const loop = () => new Promise((resolve) => {
    const next = () => {
      if (Date.now() >= end) return resolve();
      http.get({ host: '127.0.0.1', port, path: '/users/42', agent }, (res) => {
        res.resume().on('end', () => { done++; next(); });
      }).on('error', resolve);
    };
    next();
  });
  return Promise.all(Array.from({ length: connections }, loop)).then(() => { agent.destroy(); return done / seconds; });
}

async function measure(name, mode, seconds, connections) {
  const child = spawn(process.execPath, [self, 'serve', name, mode], { cwd: root, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  await load(port, 0.5, connections); // warm-up
  const before = await cpuOf(child);
  const rps = await load(port, seconds, connections);
  const cpuPerRequest = (await cpuOf(child) - before) / (rps * seconds);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  return { rps, cpuPerRequest };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const [seconds = 3, rounds = 3, connections = 16] = process.argv.slice(2).map(Number);
  console.log(`node ${process.version}, ${seconds}s per run, ${rounds} rounds interleaved, ${connections} keep-alive connections`);
  for (const name of Object.keys(apps)) {
    const off = [], on = [], httpOnly = [];
    for (let r = 0; r < rounds; r++) {
      off.push(await measure(name, 'off', seconds, connections));
      httpOnly.push(await measure(name, 'http', seconds, connections));
      on.push(await measure(name, 'on', seconds, connections));
    }
    const a = median(off.map((m) => m.rps)), b = median(on.map((m) => m.rps));
    const ca = median(off.map((m) => m.cpuPerRequest)), cb = median(on.map((m) => m.cpuPerRequest));
    const ch = median(httpOnly.map((m) => m.cpuPerRequest));
    console.log(`${name.padEnd(9)} req/s without ${a.toFixed(0).padStart(6)} with ${b.toFixed(0).padStart(6)}   ` +
      `CPU µs/req without ${ca.toFixed(1).padStart(6)} http only ${ch.toFixed(1).padStart(6)} with ${cb.toFixed(1).padStart(6)}   ` +
      `ratio ${(ca / cb).toFixed(3)} (framework part alone ${(ch / cb).toFixed(3)})`);
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3], process.argv[4]);
else main();
