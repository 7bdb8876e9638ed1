// CPU per request of one overhead app (benchmarks/overhead/apps) with the agent loaded the zero-code way,
// closed loop in ONE process: the app serves, an npm undici Pool in the same process loads it (the
// `undici` instrumentation is off, so the load generator is untraced and costs every build the same),
// and the process's CPU (all threads) per request is read after a warm-up. No agent, build A and
// build B run as child processes, alternated for many short trials; the fastest trial of each is the
// least disturbed, and B-A is taken within each trial. Export is off (TRACING_EXPORTER=none): this
// measures the instrumentations, the scope switch and the span, not the exporter.
// Run: npm run build && node benchmarks/micro/app-cpu.mjs <app> <checkout A> [<checkout B>]
//        [--trials 11] [--requests 20000] [--concurrency 8] [--unsampled]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launcherFolder } from '../overhead/app-folder.mjs';
import { listeningPort } from './app-port.mjs';

const PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/' };
const here = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === 'child') {
  const [, , , app, requestsArg, concurrencyArg] = process.argv;
  const requests = Number(requestsArg);
  const concurrency = Number(concurrencyArg);
  const require = createRequire(import.meta.url);
  const { Pool } = require('undici7');
  const http = await import('node:http');
  // The fetch app's downstream service.
  const backend = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello'));
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  process.env.BACKEND_URL = `http://127.0.0.1:${backend.address().port}/`;
  process.env.PORT = '0';
  const port = await listeningPort(pathToFileURL(path.join(here, '..', 'overhead', 'apps', `${app}.mjs`)).href);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  const load = async (n) => {
    let left = n;
    let ok = 0;
    const worker = async () => {
      while (left-- > 0) {
        const res = await pool.request({ path: PATHS[app], method: 'GET' });
        await res.body.text();
        if (res.statusCode === 200) ok++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (ok !== n) throw new Error(`${n - ok} of ${n} requests failed`);
  };
  await load(requests); // warm-up
  const before = process.cpuUsage();
  await load(requests);
  const used = process.cpuUsage(before);
  process.stdout.write(String((used.user + used.system) / requests));
  process.exit(0);
}

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--trials', '--requests', '--concurrency'].includes(argv[i - 1])));
const [app, ...roots] = positional;
if (!(app in PATHS) || roots.length === 0) {
  console.error(`usage: node benchmarks/micro/app-cpu.mjs <${Object.keys(PATHS).join('|')}> <checkout A> [<checkout B>] [--trials N] [--requests N] [--concurrency N] [--unsampled]`);
  process.exit(2);
}
const trials = Number(flag('trials', '11'));
const requests = Number(flag('requests', '20000'));
const concurrency = Number(flag('concurrency', '8'));
const unsampled = argv.includes('--unsampled');
const self = fileURLToPath(import.meta.url);
const targets = [null, ...roots.map((r) => path.resolve(r))];
const names = ['no agent', ...targets.slice(1).map((r, i) => `${String.fromCharCode(65 + i)} ${r}`)];
const env = (root) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)));
  if (root === null) return clean;
  return { ...clean, TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'error', TRACING_DISABLED_INSTRUMENTATIONS: 'undici', TRACING_SAMPLER: unsampled ? 'always_off' : 'always_on' };
};
// The child (this file, under the agent) starts from a launcher outside this repository, as a user's app would
// (../overhead/app-folder.mjs): from here the agent would see its devDependencies.
const launcher = launcherFolder(self);
const run = (root) => Number(execFileSync(process.execPath, [
  ...(root === null ? [] : ['--import', path.join(root, 'register.mjs')]), launcher.file, 'child', app, String(requests), String(concurrency),
], { env: env(root), encoding: 'utf8', cwd: launcher.dir }));
const us = targets.map(() => []);
for (let t = 0; t < trials; t++) {
  const order = t % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i);
  for (const i of order) us[i].push(run(targets[i]));
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${app}, ${trials} trials x ${requests} requests, concurrency ${concurrency}, ${unsampled ? 'unsampled' : 'sampled'}, exporter none; process CPU µs per request (app + in-process load)`);
for (let i = 0; i < targets.length; i++) {
  const overNone = i > 0 ? `; over no agent per trial median ${median(us[i].map((x, t) => x - us[0][t])).toFixed(2)}` : '';
  const vsA = i > 1 ? `; B-A per trial median ${median(us[i].map((x, t) => x - us[1][t])).toFixed(2)}` : '';
  console.log(`${names[i].padEnd(28)} fastest ${Math.min(...us[i]).toFixed(2)}, median ${median(us[i]).toFixed(2)}${overNone}${vsA}`);
}
