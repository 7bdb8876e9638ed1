// Two builds of the agent on the same pooled pg `SELECT 1` load, interleaved in one run with a
// no-agent baseline: tells whether a change to the agent made queries cheaper, with the drift of a
// shared machine hitting all three alike. Each build is a checkout with `npm run build` done and
// pg installed (a `git archive` of another branch with a node_modules symlink will do). The load is
// the child mode of benchmarks/db/sql.mjs, taken from each checkout.
// Run: node benchmarks/db/sql-ab.mjs <checkout A> <checkout B> [rounds=10] [seconds=2] [concurrency=16]
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [a, b, ...rest] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  console.error('usage: node benchmarks/db/sql-ab.mjs <checkout A> <checkout B> [rounds] [seconds] [concurrency]');
  process.exit(2);
}
const [rounds = 10, seconds = 2, concurrency = 16] = rest.map(Number);
const builds = { 'no agent': [here, false], A: [path.resolve(a), true], B: [path.resolve(b), true] };

let exportedBytes = 0;
const sink = http.createServer((req, res) => {
  req.on('data', (c) => (exportedBytes += c.length)).on('end', () => res.writeHead(200).end());
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${sink.address().port}/v1/traces`;

const start = ([root, withAgent]) => {
  const proc = fork(path.join(root, 'benchmarks/db/sql.mjs'), ['child', String(concurrency)], {
    env: { ...process.env, TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: endpoint, TRACING_LOG_LEVEL: 'warn' },
    execArgv: withAgent ? ['--import', path.join(root, 'register.mjs')] : [],
    stdio: 'inherit',
  });
  return new Promise((resolve) => proc.once('message', () => resolve(proc)));
};
const round = (proc) => new Promise((resolve) => {
  proc.once('message', resolve);
  proc.send({ cmd: 'run', ms: seconds * 1000 });
});

const names = Object.keys(builds);
const procs = {};
for (const name of names) procs[name] = await start(builds[name]);
for (const name of names) await round(procs[name]); // warm-up
const qps = Object.fromEntries(names.map((n) => [n, []]));
const cpu = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? names : [...names].reverse()) {
    const m = await round(procs[name]);
    qps[name].push(m.qps);
    cpu[name].push(m.cpuMicros);
  }
}
for (const proc of Object.values(procs)) proc.send({ cmd: 'stop' });
sink.close();

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`pg pooled SELECT 1, ${concurrency} concurrent callers, ${rounds} rounds × ${seconds} s, Node ${process.version}; exported ${(exportedBytes / 1e6).toFixed(1)} MB`);
console.log(`A = ${path.resolve(a)}, B = ${path.resolve(b)}`);
for (const name of names) {
  console.log(
    `${name.padEnd(8)} median ${median(qps[name]).toFixed(0).padStart(6)} queries/s (ratio ${(median(qps[name]) / median(qps['no agent'])).toFixed(3)}), ` +
      `app CPU ${median(cpu[name]).toFixed(1)} µs/query (cost ratio ${(median(cpu['no agent']) / median(cpu[name])).toFixed(3)})`,
  );
}
