// Runs the two-service demo under the agent and prints each service's trace tree:
// one request to the ES-module frontend, which calls the CommonJS backend with fetch and http.
// When something listens on the OTLP endpoint (the agent's default, http://localhost:4318/v1/traces,
// where `npx tracing-agent ui` receives; or TRACING_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT when set),
// the spans go there too, so the trace shows in the viewer. Nothing listening: console only, and
// no export warnings.
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const register = join(here, '..', 'register.mjs');

/** The OTLP traces URL the agent would use with this environment. */
function otlpEndpoint(env) {
  if (env.TRACING_ENDPOINT) return env.TRACING_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return 'http://localhost:4318/v1/traces';
}

/** Whether a TCP connection to the endpoint's host and port opens within a short wait. */
function listening(endpoint) {
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const endpoint = otlpEndpoint(process.env);
const toViewer = await listening(endpoint);
if (toViewer) console.log(`Sending the spans to ${endpoint} too (a trace viewer or collector answers there).\n`);

function start(file, name, env = {}) {
  const child = fork(join(here, 'two-service', file), {
    execArgv: ['--import', register],
    env: {
      ...process.env,
      TRACING_EXPORTER: toViewer ? 'console,otlp' : 'console',
      ...(toViewer ? { TRACING_ENDPOINT: endpoint } : {}),
      TRACING_SERVICE_NAME: name,
      ...env,
    },
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
