// Runs the two-service demo under the agent and prints each service's trace tree:
// one request to the ES-module frontend, which calls the CommonJS backend with fetch and http.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const register = join(here, '..', 'register.mjs');

function start(file, name, env = {}) {
  const child = fork(join(here, 'two-service', file), {
    execArgv: ['--import', register],
    env: { ...process.env, TRACING_EXPORTER: 'console', TRACING_SERVICE_NAME: name, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${name} exited early with ${code}`)));
  });
}

const backend = await start('backend.cjs', 'stock-backend');
const frontend = await start('frontend.mjs', 'orders-frontend', { BACKEND_URL: `http://127.0.0.1:${backend.port}` });

const res = await fetch(`http://127.0.0.1:${frontend.port}/orders/42`);
console.log(`GET /orders/42 -> ${res.status} ${await res.text()}\n`);

// Disconnecting lets both services close their servers and exit; the agent flushes on the way out.
for (const { child } of [frontend, backend]) {
  const exited = new Promise((r) => child.once('exit', r));
  child.disconnect();
  await exited;
}
