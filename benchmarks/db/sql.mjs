// Pooled pg `SELECT 1` queries per second without and with the agent, against the test PostgreSQL
// (bash scripts/setup-test-env.sh). Two long-lived child processes run the same code — one plain,
// one under `node --import register.mjs` exporting OTLP to a local sink — and take turns, round by
// round, in alternating order, so drift of the machine or the server hits both alike. Every query runs
// inside an active span (one per worker, as a request handler's server span would be), so the agent
// makes a client span for each; the plain child gets the no-op tracer and runs the same code.
// Run: npm run build && node benchmarks/db/sql.mjs [rounds=8] [seconds-per-round=2] [concurrency=16]
import { fork } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(here), '..', '..');
const settings = {
  host: '127.0.0.1', port: Number(process.env.TEST_PG_PORT ?? 54329), user: 'acme', password: 'acme-pg-pass', database: 'postgres',
};

if (process.argv[2] === 'child') await child();
else await parent();

async function child() {
  const require = createRequire(path.join(root, 'package.json'));
  const pg = require('pg');
  const { globalTracer } = require('@acme/tracing-agent');
  const concurrency = Number(process.argv[3]);
  const pool = new pg.Pool({ ...settings, max: Math.min(concurrency, 10) });
  await pool.query('SELECT 1');
  const tracer = globalTracer();
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') {
      await pool.end();
      process.disconnect();
      return;
    }
    let queries = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const end = started + msg.ms;
    const worker = () => tracer.startActiveSpan('request', {}, async () => {
      while (performance.now() < end) {
        await pool.query('SELECT 1');
        queries++;
      }
    });
    await Promise.all(Array.from({ length: concurrency }, worker));
    const used = process.cpuUsage(cpu);
    process.send({ qps: queries / ((performance.now() - started) / 1000), cpuMicros: (used.user + used.system) / queries });
  });
  process.send({ ready: true });
}

async function parent() {
  const [rounds = 8, seconds = 2, concurrency = 16] = process.argv.slice(2).map(Number);
  let exportedBytes = 0;
  const sink = http.createServer((req, res) => {
    req.on('data', (c) => (exportedBytes += c.length)).on('end', () => res.writeHead(200).end());
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${sink.address().port}/v1/traces`;

  const start = (withAgent, extraEnv = {}) => {
    const env = { ...process.env, TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: endpoint, TRACING_LOG_LEVEL: 'warn', ...extraEnv };
    const proc = fork(here, ['child', String(concurrency)], {
      env, execArgv: withAgent ? ['--import', path.join(root, 'register.mjs')] : [], stdio: 'inherit',
    });
    return new Promise((resolve) => proc.once('message', () => resolve(proc)));
  };
  const round = (proc) => new Promise((resolve) => {
    proc.once('message', (m) => resolve(m));
    proc.send({ cmd: 'run', ms: seconds * 1000 });
  });

  // `pgOff`: the agent loaded with the pg instrumentation switched off, which tells the cost of the
  // query spans apart from what the agent costs any app (its async context tracking).
  // `noExport` (only with SQL_BENCH_NO_EXPORT=1): query spans made but not exported
  // (TRACING_EXPORTER=none), which tells the span work apart from mapping, encoding and sending.
  const procs = { plain: await start(false), pgOff: await start(true, { TRACING_DISABLED_INSTRUMENTATIONS: 'pg' }), traced: await start(true) };
  if (process.env.SQL_BENCH_NO_EXPORT === '1') procs.noExport = await start(true, { TRACING_EXPORTER: 'none' });
  const names = Object.keys(procs);
  // One warm-up round each (JIT, pool connections), not counted.
  for (const name of names) await round(procs[name]);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  const cpu = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const m = await round(procs[name]);
      results[name].push(m.qps);
      cpu[name].push(m.cpuMicros);
    }
  }
  for (const proc of Object.values(procs)) proc.send({ cmd: 'stop' });
  sink.close();

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (x) => x.toFixed(0).padStart(7);
  console.log(`pg pooled SELECT 1 (queries/s), ${concurrency} concurrent callers, ${rounds} rounds × ${seconds} s each, Node ${process.version}`);
  console.log(`no agent       median ${fmt(median(results.plain))}   rounds ${results.plain.map(fmt).join(' ')}`);
  console.log(`agent, pg off  median ${fmt(median(results.pgOff))}   rounds ${results.pgOff.map(fmt).join(' ')}`);
  console.log(`agent          median ${fmt(median(results.traced))}   rounds ${results.traced.map(fmt).join(' ')}`);
  console.log(`ratio (agent / no agent, medians): ${(median(results.traced) / median(results.plain)).toFixed(3)}   exported ${(exportedBytes / 1e6).toFixed(1)} MB of spans`);
  // Throughput swings with whatever else the machine runs; the app's own CPU time per query does not.
  const [cpuPlain, cpuOff, cpuTraced] = [median(cpu.plain), median(cpu.pgOff), median(cpu.traced)];
  console.log(`app CPU per query (medians): no agent ${cpuPlain.toFixed(1)} µs, agent with pg off ${cpuOff.toFixed(1)} µs, agent ${cpuTraced.toFixed(1)} µs`);
  console.log(`  cost ratios: agent / no agent ${(cpuPlain / cpuTraced).toFixed(3)}; query spans alone (agent / agent with pg off) ${(cpuOff / cpuTraced).toFixed(3)}`);
  if (procs.noExport !== undefined) {
    console.log(`agent, no export median ${fmt(median(results.noExport))}   app CPU per query ${median(cpu.noExport).toFixed(1)} µs`);
  }
}
