// CPU nanoseconds per log call, pino and winston, inside a span and outside any trace: no agent, the agent
// with TRACING_LOGS_INJECTION=false (its loggers are then not patched at all), and the agent injecting
// trace_id/span_id/trace_flags. One child process per variant, measured in turns (round-robin) in one
// run so a shared machine's drift hits all alike; the median of the rounds is reported.
// Loggers write JSON to a sink that drops it (pino: an object with write(); winston: a Stream transport
// to a Writable), so the figures are the logger's own work plus ours. The packages are the test
// fixtures' symlinks (pino 10, winston 3), loaded with --preserve-symlinks so the agent sees their names.
// Run: node benchmarks/logs/log-calls.mjs [rounds=9] [callsPerRound=20000]   (after npm run build)
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(root, 'test', 'integration', 'logs', 'fixtures');

if (process.argv[2] === 'child') await child();
else await parent();

async function child() {
  const { createRequire } = await import('node:module');
  const { Writable } = await import('node:stream');
  const req = createRequire(path.join(fixtures, 'pino10', 'app.cjs'));
  const pino = req('pino');
  const winston = createRequire(path.join(fixtures, 'winston3', 'app.cjs'))('winston');
  const { globalTracer } = createRequire(path.join(root, 'package.json'))(path.join(root, 'dist', 'src', 'index.js'));
  const loggers = {
    pino: pino({ base: null }, { write() {} }),
    winston: winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: new Writable({ objectMode: true, write: (_c, _e, done) => done() }) })],
    }),
  };
  const calls = {
    pino: (log, i) => log.info({ order: i, user: 'u1' }, 'order placed'),
    winston: (log, i) => log.info('order placed', { order: i, user: 'u1' }),
  };
  // CPU time, not wall time: on a shared machine waiting for a core is not the logger's cost. Calls go
  // in chunks with a turn of the event loop between them, as in a server: winston finishes each write
  // on later ticks, and a loop that never yields would pile every record up and measure the GC.
  const measure = async (name, n) => {
    const log = loggers[name];
    const call = calls[name];
    const before = process.cpuUsage();
    for (let i = 0; i < n; ) {
      for (const end = Math.min(n, i + 200); i < end; i++) call(log, i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const cpu = process.cpuUsage(before);
    return ((cpu.user + cpu.system) * 1000) / n;
  };
  const tracer = globalTracer();
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') {
      process.disconnect();
      return;
    }
    const ns = msg.where === 'span' ? await tracer.startActiveSpan('bench', {}, () => measure(msg.logger, msg.n)) : await measure(msg.logger, msg.n);
    process.send({ ns });
  });
  process.send({ ready: true });
}

async function parent() {
  const rounds = Number(process.argv[2] ?? 9);
  const n = Number(process.argv[3] ?? 20_000);
  const register = path.join(root, 'register.mjs');
  const variants = [
    { name: 'no agent', execArgv: ['--preserve-symlinks'], env: {} },
    { name: 'agent, injection off', execArgv: ['--preserve-symlinks', '--import', register], env: { TRACING_EXPORTER: 'none', TRACING_LOGS_INJECTION: 'false' } },
    { name: 'agent, injection on', execArgv: ['--preserve-symlinks', '--import', register], env: { TRACING_EXPORTER: 'none' } },
  ];
  const children = await Promise.all(variants.map((v) => start(v)));
  const cases = [];
  for (const logger of ['pino', 'winston']) for (const where of ['span', 'outside']) cases.push({ logger, where });
  const results = new Map();
  const ask = (c, msg) => new Promise((resolve) => { c.once('message', resolve); c.send(msg); });
  // Warm-up: every child, every case, unmeasured.
  for (const c of children) for (const k of cases) await ask(c, { ...k, n });
  for (let r = 0; r < rounds; r++) {
    for (const k of cases) {
      for (let i = 0; i < children.length; i++) {
        const { ns } = await ask(children[i], { ...k, n });
        const key = `${k.logger}|${k.where}|${variants[i].name}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(ns);
      }
    }
  }
  for (const c of children) c.send({ cmd: 'stop' });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`CPU ns per log call, median of ${rounds} rounds of ${n} calls (node ${process.version})`);
  console.log(['logger', 'where', ...variants.map((v) => v.name), 'injection on vs no agent'].join(' | '));
  for (const k of cases) {
    const m = variants.map((v) => median(results.get(`${k.logger}|${k.where}|${v.name}`)));
    const where = k.where === 'span' ? 'inside a span' : 'outside any trace';
    console.log([k.logger, where, ...m.map((x) => x.toFixed(0)), `${(m[2] - m[0] >= 0 ? '+' : '')}${(m[2] - m[0]).toFixed(0)} ns (${((m[2] / m[0] - 1) * 100).toFixed(0)}%)`].join(' | '));
  }
}

function start(variant) {
  const c = fork(fileURLToPath(import.meta.url), ['child'], {
    execArgv: variant.execArgv,
    env: { ...cleanEnv(), ...variant.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => c.once('message', () => resolve(c)));
}

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}
