// Requests per second of a one-route app per framework without the agent, with it
// (`--import register.mjs`, every request sampled, TRACING_EXPORTER=none so spans are recorded and
// dropped: the request path, not export), and with it but the framework switched off (http only),
// interleaved, each server in its own process. Frameworks load from the integration fixtures'
// folders (`express4/node_modules/express` → the npm alias) so the loader sees their real names.
//
//   npx tsc -p . && node benchmarks/frameworks.mjs [seconds=3] [rounds=3] [connections=16]
//
// 'http only' patches just the http instrumentation, to tell the framework part's share.
// Prints one line per framework: median req/s without and with, and the server's CPU time per
// request (lowest over rounds) without, http only and with. The ratio is of CPU per request
// (without / with; aim >= 0.95), which a machine shared with other work disturbs less than req/s.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);

const fixtures = `${root}test/integration/frameworks/fixtures/`;
const apps = {
  express4: () => one(require(`${fixtures}express4/node_modules/express`)),
  express5: () => one(require(`${fixtures}express5/node_modules/express`)),
  fastify4: () => fastifyApp(require(`${fixtures}fastify4/node_modules/fastify`)),
  fastify5: () => fastifyApp(require(`${fixtures}fastify5/node_modules/fastify`)),
  koa2: () => koaApp(require(`${fixtures}koa2/node_modules/koa`)),
  koa3: () => koaApp(require(`${fixtures}koa3/node_modules/koa`)),
  hapi21: () => hapiApp(),
};
const instrumentationOf = { express4: 'express', express5: 'express', fastify4: 'fastify', fastify5: 'fastify', koa2: 'koa', koa3: 'koa', hapi21: 'hapi' };

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

async function serve(name) {
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
  const agent = mode === 'off' ? [] : ['--import', `${root}register.mjs`];
  const env = { ...process.env, TRACING_EXPORTER: 'none', TRACING_SAMPLER: 'always_on' };
  if (mode === 'http') env.TRACING_DISABLED_INSTRUMENTATIONS = instrumentationOf[name];
  const child = spawn(process.execPath, ['--preserve-symlinks', ...agent, self, 'serve', name], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
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
    // CPU per request: the least disturbed round (other work on the machine only ever adds to it).
    const ca = Math.min(...off.map((m) => m.cpuPerRequest)), cb = Math.min(...on.map((m) => m.cpuPerRequest));
    const ch = Math.min(...httpOnly.map((m) => m.cpuPerRequest));
    console.log(`${name.padEnd(9)} req/s without ${a.toFixed(0).padStart(6)} with ${b.toFixed(0).padStart(6)}   ` +
      `CPU µs/req without ${ca.toFixed(1).padStart(6)} http only ${ch.toFixed(1).padStart(6)} with ${cb.toFixed(1).padStart(6)}   ` +
      `ratio ${(ca / cb).toFixed(3)} (framework part alone ${(ch / cb).toFixed(3)})`);
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3]);
else main();
