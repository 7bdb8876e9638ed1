// The overhead benchmark: every app under every agent, in interleaved rounds, then start-up times,
// then issue 20's targets judged on the figures.
// Usage (from the repository root): npm run bench [-- --node 24] [-- --before <built checkout>]
//   quick: BENCH_DURATION=3 BENCH_ROUNDS=1 BENCH_STARTUP_RUNS=3 npm run bench
//   --node <major|path> (BENCH_NODE): the Node line the servers run on (node-line.mjs); the load
//     generator, sink and backend stay on this process's Node.
//   --before <dir> (BENCH_BASELINE_ROOT): a checkout of an older commit, built; adds its sampled and
//     unsampled rows beside ours in the same interleaved rounds.
// Settings are read from BENCH_* variables (see docs/benchmarks.md); results go to benchmarks/results/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENTS, beforeAgents, repoRoot } from './agents.mjs';
import { runLoad } from './load.mjs';
import { majorOf, nodeBinary, nodeVersion } from './node-line.mjs';
import { choosePinning, pinSelf } from './pinning.mjs';
import { busyShare, cpuTicks, cpuUsPerRequest, rssBytes, threadCpuNs } from './process-stats.mjs';
import { summarize, summarizeStartup, targetsOf, toMarkdown } from './report.mjs';
import { startBackend, startSink } from './sink.mjs';
import { startApp, timeEmptyScript } from './server.mjs';
import { applySameAs, judgeCell } from './verdict.mjs';

/** Each app, the path the load hits, and whether a request makes a downstream call. */
const APPS = {
  http: { path: '/', callsDownstream: false },
  express: { path: '/users/42', callsDownstream: false },
  fastify: { path: '/users/42', callsDownstream: false },
  fetch: { path: '/', callsDownstream: true },
};

const DEFAULTS = { duration: 10, rounds: 3, warmup: 2, connections: 10, startupRuns: 10, verifyRequests: 20, verifyTimeoutMs: 8000 };

/** `--name value` from the command line, else the environment variable, else undefined. */
function option(argv, env, flag, variable) {
  const at = argv.indexOf(`--${flag}`);
  if (at !== -1) {
    if (argv[at + 1] === undefined || argv[at + 1].startsWith('--')) throw new Error(`--${flag} needs a value`);
    return argv[at + 1];
  }
  return env[variable] || undefined;
}

/** The rows of a run, in the order each round starts from: ours next to its before build. */
function chooseAgents(env, before) {
  const known = [...AGENTS, ...before];
  const byId = new Map(known.map((a) => [a.id, a]));
  const order = ['none', 'als-floor', 'ours', 'ours-before', 'ours-unsampled', 'ours-before-unsampled', 'ours-no-export', 'ours-disabled', 'otel', 'dd'];
  let wanted;
  if (env.BENCH_AGENTS) {
    wanted = env.BENCH_AGENTS.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((w) => !byId.has(w));
    if (unknown.length) throw new Error(`BENCH_AGENTS: unknown ${unknown.join(', ')}; known: ${[...byId.keys()].join(', ')}`);
    // A before build mirrors the rows of ours that were asked for.
    if (wanted.includes('ours') && byId.has('ours-before')) wanted.push('ours-before');
    if (wanted.includes('ours-unsampled') && byId.has('ours-before-unsampled')) wanted.push('ours-before-unsampled');
  } else {
    wanted = [...byId.keys()];
  }
  // The baseline is always measured: every ratio needs it.
  wanted = new Set(['none', ...wanted]);
  return [...order.filter((id) => wanted.has(id)), ...[...wanted].filter((id) => !order.includes(id))].map((id) => byId.get(id));
}

function gitCommit(dir) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function readSettings(env, argv) {
  const num = (name, fallback) => {
    if (env[name] === undefined || env[name] === '') return fallback;
    const n = Number(env[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${env[name]} is not a non-negative number`);
    return n;
  };
  const list = (name, all) => {
    if (!env[name]) return all;
    const wanted = env[name].split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((w) => !all.includes(w));
    if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${all.join(', ')}`);
    return wanted;
  };
  const s = {
    duration: num('BENCH_DURATION', DEFAULTS.duration),
    rounds: Math.max(1, Math.floor(num('BENCH_ROUNDS', DEFAULTS.rounds))),
    warmup: num('BENCH_WARMUP', DEFAULTS.warmup),
    connections: Math.max(1, Math.floor(num('BENCH_CONNECTIONS', DEFAULTS.connections))),
    startupRuns: Math.floor(num('BENCH_STARTUP_RUNS', DEFAULTS.startupRuns)),
    verifyRequests: Math.max(1, Math.floor(num('BENCH_VERIFY_REQUESTS', DEFAULTS.verifyRequests))),
    verifyTimeoutMs: num('BENCH_VERIFY_TIMEOUT_MS', DEFAULTS.verifyTimeoutMs),
    apps: list('BENCH_APPS', Object.keys(APPS)),
  };
  const nodeSpec = option(argv, env, 'node', 'BENCH_NODE');
  s.nodeBinary = nodeBinary(nodeSpec);
  s.serverNode = nodeVersion(s.nodeBinary);
  const beforeRoot = option(argv, env, 'before', 'BENCH_BASELINE_ROOT');
  let before = [];
  if (beforeRoot) {
    const root = path.resolve(beforeRoot);
    if (!existsSync(path.join(root, 'register.mjs'))) throw new Error(`--before ${root}: no register.mjs there (a checkout of this repository, built)`);
    s.before = { root, commit: gitCommit(root) };
    before = beforeAgents(root, s.before.commit);
  }
  s.agents = chooseAgents(env, before).map((a) => a.id);
  s.agentList = chooseAgents(env, before);
  const isDefault = Object.entries(DEFAULTS).every(([k, v]) => s[k] === v) && !env.BENCH_APPS && !env.BENCH_AGENTS;
  const major = majorOf(s.serverNode);
  const ownLine = major === majorOf(process.version);
  s.out = env.BENCH_OUT || (isDefault ? (ownLine ? 'latest' : `latest-node${major}`) : 'quick');
  return s;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);

async function waitFor(predicate, timeoutMs) {
  const end = performance.now() + timeoutMs;
  while (!predicate() && performance.now() < end) await sleep(50);
  return predicate();
}

async function runCell({ app, agent, round, settings, sink, backend, pinning }) {
  const cell = { app, agent: agent.id, round, callsDownstream: APPS[app].callsDownstream, invalid: [] };
  const missing = agent.missing();
  if (missing) {
    cell.invalid.push(missing);
    return cell;
  }
  const ctx = { sinkUrl: sink.url, app };
  const spansAtStart = sink.counts.spans;
  let server;
  try {
    server = await startApp({
      app,
      agentArgs: agent.args(ctx),
      env: { ...agent.env(ctx), BACKEND_URL: `${backend.url}/` },
      cpu: pinning.server,
      node: settings.nodeBinary,
    });
  } catch (err) {
    cell.invalid.push(`app did not start: ${err.message}`);
    return cell;
  }
  try {
    cell.startMs = server.startMs;
    const url = `http://127.0.0.1:${server.port}${APPS[app].path}`;
    const backendAtStart = { ...backend.counts };
    let verifyOk = 0;
    for (let i = 0; i < settings.verifyRequests; i++) {
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.ok) verifyOk++;
      } catch { /* counted as a failed check request */ }
    }
    cell.verifyRequests = settings.verifyRequests;
    cell.verifyOk = verifyOk;
    cell.backendRequests = backend.counts.requests - backendAtStart.requests;
    cell.backendTraced = backend.counts.traced - backendAtStart.traced;

    let cpuBefore = null;
    let spansBefore = 0;
    let ticksBefore = null;
    let wallBefore = 0;
    let backendBefore = null;
    cell.load = await runLoad({
      url, duration: settings.duration, warmup: settings.warmup, connections: settings.connections, cpu: pinning.load,
      beforeTimed: () => {
        cpuBefore = threadCpuNs(server.pid);
        spansBefore = sink.counts.spans;
        ticksBefore = cpuTicks();
        backendBefore = { ...backend.counts };
        wallBefore = performance.now();
      },
    });
    const cpuAfter = threadCpuNs(server.pid);
    cell.cores = coreUse(ticksBefore, cpuTicks(), pinning, cpuAfter - cpuBefore, performance.now() - wallBefore);
    cell.rssBytes = rssBytes(server.pid);
    if (cell.callsDownstream) {
      cell.backendConnectionsTimed = backend.counts.connections - backendBefore.connections;
      cell.backendRequestsTimed = backend.counts.requests - backendBefore.requests;
    }
    const handled = Math.max(1, cell.load.requests);
    cell.cpuUsPerRequest = cpuUsPerRequest(cpuBefore, cpuAfter, cell.load.requests);
    cell.spansPerRequest = (sink.counts.spans - spansBefore) / handled;
    // The check requests' spans must reach the sink. Waited for after the load rather than before it:
    // a batching agent (OpenTelemetry's 5 s delay) has sent by then, so a cell rarely waits at all.
    if (agent.expects === 'spans') await waitFor(() => sink.counts.spans > spansAtStart, settings.verifyTimeoutMs);
    cell.verifySpans = sink.counts.spans - spansAtStart;
  } catch (err) {
    cell.invalid.push(`measurement failed: ${err.message}`);
  } finally {
    await server.stop();
  }
  // Let the sink finish reading what the process sent before it was stopped.
  await sleep(300);
  cell.totalSpans = sink.counts.spans - spansAtStart;
  if (cell.verifyRequests !== undefined) cell.invalid.push(...judgeCell({ ...cell, expects: agent.expects }));
  return cell;
}

/**
 * How busy the two cores were during a cell's timed load: the server's core (its share of the wall
 * time, and the rest of that core's busy time, which is other work: another engineer's job, or the
 * host's, since this VM's clock ticks count time the host took as busy) and the load generator's
 * core (autocannon, the sink and the fetch app's backend; when it is near 1 the cell measured the
 * load generator, not the server). Shares of one core's wall time, 0 - 1; null unpinned.
 */
function coreUse(before, after, pinning, serverCpuNs, wallMs) {
  if (pinning.server === null || !before || !after || !(wallMs > 0)) return null;
  const serverCore = busyShare(before, after, pinning.server);
  const server = serverCpuNs / 1e6 / wallMs;
  return {
    server: round2(server),
    otherOnServerCore: serverCore === null ? null : round2(Math.max(0, serverCore - server)),
    loadCore: round2(busyShare(before, after, pinning.load)),
  };
}

const round2 = (x) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

async function runStartup({ settings, agents, sink, backend, pinning }) {
  const samples = [];
  for (let run = 0; run < settings.startupRuns; run++) {
    for (const agent of agents) {
      const missing = agent.missing();
      const ctx = { sinkUrl: sink.url, app: 'startup' };
      for (const kind of ['empty', 'express']) {
        if (missing) {
          samples.push({ agent: agent.id, kind, ms: null, error: missing });
          continue;
        }
        try {
          let ms;
          if (kind === 'empty') {
            ms = await timeEmptyScript({ agentArgs: agent.args(ctx), env: agent.env(ctx), cpu: pinning.server, node: settings.nodeBinary });
          } else {
            const server = await startApp({
              app: 'express', agentArgs: agent.args(ctx), env: { ...agent.env(ctx), BACKEND_URL: backend.url }, cpu: pinning.server,
              node: settings.nodeBinary,
            });
            ms = server.startMs;
            await server.stop();
          }
          samples.push({ agent: agent.id, kind, ms });
        } catch (err) {
          samples.push({ agent: agent.id, kind, ms: null, error: err.message.slice(0, 200) });
        }
      }
    }
  }
  return samples;
}

function packageVersion(name) {
  try {
    const path = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
    return JSON.parse(readFileSync(path, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function ourVersion() {
  const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8'));
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch { /* not a git checkout */ }
  return `${pkg.version} (${commit})`;
}

async function main() {
  const settings = readSettings(process.env, process.argv.slice(2));
  const agents = settings.agentList;
  delete settings.agentList;
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const pinning = choosePinning();
  pinSelf(pinning.load);
  const startedAt = new Date().toISOString();
  const loadAvgStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const sink = await startSink();
  const backend = await startBackend();
  log(`bench: servers on Node ${settings.serverNode}${settings.before ? `, before = ${settings.before.root} (${settings.before.commit ?? 'no git'})` : ''}; ` +
    `${settings.apps.length} apps × ${agents.length} agents × ${settings.rounds} rounds, ${settings.duration} s each`);

  const cells = [];
  let startupSamples = [];
  const t0 = performance.now();
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      // Each round starts one agent further on, so that no row always runs first (or right after
      // the same neighbour) in an app's sequence.
      const order = agents.map((_, i) => agents[(i + round - 1) % agents.length]);
      for (const app of settings.apps) {
        for (const agent of order) {
          const cell = await runCell({ app, agent, round, settings, sink, backend, pinning });
          cells.push(cell);
          const downstream = cell.backendConnectionsTimed !== undefined ? `; downstream ${cell.backendRequestsTimed} calls on ${cell.backendConnectionsTimed} new connections` : '';
          const cores = cell.cores ? `; cores: server ${cell.cores.server}, other on its core ${cell.cores.otherOnServerCore}, load core ${cell.cores.loadCore}` : '';
          const rps = cell.load ? `${cell.load.rps.toFixed(0)} req/s, ${cell.cpuUsPerRequest?.toFixed(1)} µs CPU/req${cores}${downstream}` : 'no load';
          const elapsed = ((performance.now() - t0) / 1000).toFixed(0);
          log(`[${elapsed} s] round ${round} ${app} ${agent.id}: ${rps}${cell.invalid.length ? ` INVALID: ${cell.invalid.join('; ')}` : ''}`);
        }
      }
    }
    applySameAs(cells, agents);
    log(`bench: start-up, ${settings.startupRuns} runs per agent`);
    startupSamples = await runStartup({ settings, agents, sink, backend, pinning });
  } finally {
    await sink.close();
    await backend.close();
  }

  const versions = {
    '@acme/tracing-agent': ourVersion(),
    '@opentelemetry/auto-instrumentations-node': packageVersion('@opentelemetry/auto-instrumentations-node'),
    '@opentelemetry/sdk-node': packageVersion('@opentelemetry/sdk-node'),
    'dd-trace': packageVersion('dd-trace'),
    express: packageVersion('express'),
    fastify: packageVersion('fastify'),
    autocannon: packageVersion('autocannon'),
  };
  const meta = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: commandLine(),
    node: process.version,
    serverNode: settings.serverNode,
    nodeBinary: settings.nodeBinary,
    before: settings.before ?? null,
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores,
      memGb: Math.round(os.totalmem() / 2 ** 30),
      platform: os.platform(),
      release: os.release(),
      loadAvgStart,
      loadAvgEnd: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    },
    pinning,
    settings,
    versions,
  };
  const rows = summarize(cells, settings.apps, agents);
  const startup = summarizeStartup(startupSamples, agents);
  const { subjects, targets } = targetsOf(rows, { agents, apps: settings.apps, nodeMajor: majorOf(settings.serverNode) });
  const markdown = toMarkdown({ meta, rows, startup, targets, subjects });
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${settings.out}.json`, JSON.stringify({ meta, targets, rows, startup, sink: sink.counts, cells, startupSamples }, null, 2) + '\n');
  writeFileSync(`${dir}${settings.out}.md`, markdown);
  process.stdout.write(markdown);
  log(`bench: wrote benchmarks/results/${settings.out}.md and .json`);
}

function commandLine() {
  const set = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v} `).join('');
  const args = process.argv.slice(2);
  return `${set}npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
