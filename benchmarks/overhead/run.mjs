// The overhead benchmark: every app under every agent, then start-up times, then issue 20's targets
// judged on the figures. Per round and app, every row's server is alive at once and loaded in short
// closed-loop slices, round-robin in a shuffled order (interleave.mjs); each figure is taken per pass
// and read with a bootstrap interval (report.mjs, intervals.mjs). Throughput is judged on the server's
// capacity ratio (no agent's CPU per request / the row's), the req/s ratio reported beside it.
// Usage (from the repository root): npm run bench [-- --node 24] [-- --before <built checkout>]
//   quick: BENCH_DURATION=3 BENCH_ROUNDS=1 BENCH_STARTUP_RUNS=3 npm run bench
//   --node <major|path> (BENCH_NODE): the Node line the servers run on (node-line.mjs); the load
//     generator, sink and backend stay on this process's Node.
//   --before <dir> (BENCH_BASELINE_ROOT): a checkout of an older commit, built; adds its sampled and
//     unsampled rows beside ours in the same interleaved rounds.
//   BENCH_AGENTS=none#2,ours,ours#2: a second row of an agent, read against the first (an A/A check).
// Settings are read from BENCH_* variables (see docs/benchmarks.md); results go to benchmarks/results/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENTS, beforeAgents, repoRoot } from './agents.mjs';
import { runAppRound } from './interleave.mjs';
import { majorOf, nodeBinary, nodeVersion } from './node-line.mjs';
import { choosePinning, pinSelf } from './pinning.mjs';
import { summarize, summarizeStartup, targetsOf, toMarkdown } from './report.mjs';
import { startBackend, startSink } from './sink.mjs';
import { startApp, timeEmptyScript } from './server.mjs';
import { startSliceLoad } from './slice-load.mjs';
import { processMarkdown, splitMarkdown, summarizeProcess, summarizeSplit } from './split.mjs';
import { applySameAs } from './verdict.mjs';
import { seededRandom } from '../cpu/differences.mjs';

/** Each app, the path the load hits, and whether a request makes a downstream call. */
const APPS = {
  http: { path: '/', callsDownstream: false },
  express: { path: '/users/42', callsDownstream: false },
  fastify: { path: '/users/42', callsDownstream: false },
  fetch: { path: '/', callsDownstream: true },
};

const DEFAULTS = { duration: 5, slice: 0.5, rounds: 3, warmup: 1, warmupRequests: 5000, connections: 10, startupRuns: 10, verifyRequests: 20, verifyTimeoutMs: 8000 };

/** `--name value` from the command line, else the environment variable, else undefined. */
function option(argv, env, flag, variable) {
  const at = argv.indexOf(`--${flag}`);
  if (at !== -1) {
    if (argv[at + 1] === undefined || argv[at + 1].startsWith('--')) throw new Error(`--${flag} needs a value`);
    return argv[at + 1];
  }
  return env[variable] || undefined;
}

/**
 * A second (third, …) row of the same agent, `<id>#<n>` in BENCH_AGENTS: an A/A check of the harness.
 * Its figures against its twin must read 1.00 (ratios) or 0 (differences) within their intervals; the
 * spread they show is what the harness cannot tell apart on this machine.
 */
function copyOf(id, byId, wanted) {
  const m = /^(.+)#(\d+)$/.exec(id);
  const base = m && byId.get(m[1]);
  if (!base) return null;
  const twin = (other) => (other && wanted.includes(`${other}#${m[2]}`) ? `${other}#${m[2]}` : other);
  return { ...base, id, label: `${base.label} (again, #${m[2]})`, unsampled: twin(base.unsampled), sameAs: twin(base.sameAs) };
}

/** The rows of a run, in the order each round starts from: ours next to its before build. */
function chooseAgents(env, before) {
  const known = [...AGENTS, ...before];
  const byId = new Map(known.map((a) => [a.id, a]));
  const order = ['none', 'als-floor', 'ours', 'ours-before', 'ours-unsampled', 'ours-before-unsampled', 'ours-no-export', 'ours-disabled', 'otel', 'dd'];
  let wanted;
  if (env.BENCH_AGENTS) {
    wanted = env.BENCH_AGENTS.split(',').map((s) => s.trim()).filter(Boolean);
    for (const w of wanted) {
      const copy = !byId.has(w) && copyOf(w, byId, wanted);
      if (copy) byId.set(w, copy);
    }
    const unknown = wanted.filter((w) => !byId.has(w));
    if (unknown.length) throw new Error(`BENCH_AGENTS: unknown ${unknown.join(', ')}; known: ${[...byId.keys()].join(', ')} (and <id>#2 for a second row of one)`);
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
    slice: num('BENCH_SLICE', DEFAULTS.slice),
    rounds: Math.max(1, Math.floor(num('BENCH_ROUNDS', DEFAULTS.rounds))),
    warmup: num('BENCH_WARMUP', DEFAULTS.warmup),
    warmupRequests: Math.floor(num('BENCH_WARMUP_REQUESTS', DEFAULTS.warmupRequests)),
    connections: Math.max(1, Math.floor(num('BENCH_CONNECTIONS', DEFAULTS.connections))),
    startupRuns: Math.floor(num('BENCH_STARTUP_RUNS', DEFAULTS.startupRuns)),
    verifyRequests: Math.max(1, Math.floor(num('BENCH_VERIFY_REQUESTS', DEFAULTS.verifyRequests))),
    verifyTimeoutMs: num('BENCH_VERIFY_TIMEOUT_MS', DEFAULTS.verifyTimeoutMs),
    apps: list('BENCH_APPS', Object.keys(APPS)),
    seed: env.BENCH_SEED ? Number(env.BENCH_SEED) : Math.floor(Math.random() * 2 ** 31),
  };
  // Diagnosis only (docs/benchmarks.md): marks within each timed slice (ms from its start) at which the load
  // generator reads the server's CPU and its responses so far, the first of them the split the report shows;
  // and node flags for every server (e.g. --no-memory-reducer).
  s.splitMs = env.BENCH_SPLIT_MS ? env.BENCH_SPLIT_MS.split(',').map(Number) : [];
  if (s.splitMs.some((ms) => !(ms > 0) || ms >= s.slice * 1000)) throw new Error(`BENCH_SPLIT_MS=${env.BENCH_SPLIT_MS}: marks in ms, above 0 and within the slice (${s.slice * 1000} ms)`);
  s.serverFlags = env.BENCH_SERVER_FLAGS ? env.BENCH_SERVER_FLAGS.split(/\s+/).filter(Boolean) : [];
  if (!(s.slice > 0)) throw new Error(`BENCH_SLICE=${env.BENCH_SLICE} must be above 0`);
  if (!Number.isInteger(s.seed)) throw new Error(`BENCH_SEED=${env.BENCH_SEED} is not an integer`);
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
  s.agentList = chooseAgents(env, before);
  s.agents = s.agentList.map((a) => a.id);
  // A before build of this very commit is an A/A check: its rows are also read against ours.
  if (s.before && s.before.commit && s.before.commit === gitCommit(repoRoot)) {
    for (const a of s.agentList) if (a.id.startsWith('ours-before')) a.copyOf = a.id.replace('ours-before', 'ours');
  }
  const isDefault = Object.entries(DEFAULTS).every(([k, v]) => s[k] === v) && !env.BENCH_APPS && !env.BENCH_AGENTS && s.serverFlags.length === 0;
  const major = majorOf(s.serverNode);
  const ownLine = major === majorOf(process.version);
  s.out = env.BENCH_OUT || (isDefault ? (ownLine ? 'latest' : `latest-node${major}`) : 'quick');
  return s;
}

const log = (msg) => process.stderr.write(`${msg}\n`);

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
  const load = await startSliceLoad({ cpu: pinning.load });
  const random = seededRandom(settings.seed);
  const passes = Math.max(1, Math.round(settings.duration / settings.slice));
  log(`bench: servers on Node ${settings.serverNode}${settings.before ? `, before = ${settings.before.root} (${settings.before.commit ?? 'no git'})` : ''}; ` +
    `${settings.apps.length} apps × ${agents.length} rows × ${settings.rounds} rounds; per round all rows' servers alive, ` +
    `${passes} passes of one ${settings.slice} s slice per row (shuffled, seed ${settings.seed}) after an interleaved warm-up of ${settings.warmup} s and ${settings.warmupRequests} requests per server`);

  const cells = [];
  let startupSamples = [];
  const t0 = performance.now();
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      for (const app of settings.apps) {
        const roundCells = await runAppRound({ app, appInfo: APPS[app], agents, round, settings, pinning, load, random, log });
        cells.push(...roundCells);
        const elapsed = ((performance.now() - t0) / 1000).toFixed(0);
        for (const cell of roundCells) log(`[${elapsed} s] round ${round} ${app} ${cell.agent}: ${describeCell(cell)}`);
      }
    }
    applySameAs(cells, agents);
    log(`bench: start-up, ${settings.startupRuns} runs per agent`);
    startupSamples = await runStartup({ settings, agents, sink, backend, pinning });
  } finally {
    await load.close();
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
  const rows = summarize(cells, settings.apps, agents, { seed: settings.seed });
  const startup = summarizeStartup(startupSamples, agents);
  const { subjects, targets } = targetsOf(rows, { agents, apps: settings.apps, nodeMajor: majorOf(settings.serverNode) });
  const split = settings.splitMs.length ? summarizeSplit(cells, settings.apps, agents, { markCount: settings.splitMs.length, seed: settings.seed }) : undefined;
  const processRows = split ? summarizeProcess(cells, settings.apps, agents) : undefined;
  const markdown = toMarkdown({ meta, rows, startup, targets, subjects }) +
    (split ? `${[...splitMarkdown(split, settings.splitMs[0]), ...processMarkdown(processRows)].join('\n')}\n` : '');
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${settings.out}.json`, JSON.stringify({ meta, targets, rows, ...(split ? { split, process: processRows } : {}), startup, sink: sink.counts, cells, startupSamples }, null, 2) + '\n');
  writeFileSync(`${dir}${settings.out}.md`, markdown);
  process.stdout.write(markdown);
  log(`bench: wrote benchmarks/results/${settings.out}.md and .json`);
}

/** One log line per cell: its pooled figures over its slices, its cores, what the checks found. */
function describeCell(cell) {
  if (!cell.load) return `no load${cell.invalid.length ? ` INVALID: ${cell.invalid.join('; ')}` : ''}`;
  const c = cell.cores;
  const cores = c ? `; cores: server ${c.server}, other on its core ${c.otherOnServerCore}, load core ${c.loadCore}, disturbed slices ${cell.disturbedSlices}/${cell.slices.length}` : '';
  const downstream = cell.backendConnectionsTimed !== undefined ? `; downstream ${cell.backendRequestsTimed} calls on ${cell.backendConnectionsTimed} new connections` : '';
  const perSlice = cell.slices.map((x) => x.cpuUsPerRequest?.toFixed(0)).join(' ');
  return `${cell.load.rps.toFixed(0)} req/s, ${cell.cpuUsPerRequest?.toFixed(1)} µs CPU/req (slices: ${perSlice})${cores}${downstream}` +
    `${cell.invalid.length ? ` INVALID: ${cell.invalid.join('; ')}` : ''}`;
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
