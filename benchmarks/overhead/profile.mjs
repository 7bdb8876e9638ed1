// Profiles one overhead app under load: runs it with `--cpu-prof` (50 µs interval) under our agent
// (or none), drives it with autocannon, then prints self time per request by function and by file, so
// that the agent's share of a request can be read off instead of guessed from req/s.
// Usage (from the repository root):
//   node benchmarks/overhead/profile.mjs <app> [--agent ours|ours-unsampled|none] [--node 24]
//     [--seconds 8] [--top 40] [--keep <dir>]
// The profile itself is written to a temporary directory (kept with --keep).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENTS } from './agents.mjs';
import { runLoad } from './load.mjs';
import { nodeBinary } from './node-line.mjs';
import { startApp } from './server.mjs';
import { startBackend, startSink } from './sink.mjs';

const PATHS = { http: '/', express: '/users/42', fastify: '/users/42', fetch: '/', 'http-body': '/' };
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const exitAfter = fileURLToPath(new URL('./profile-exit.mjs', import.meta.url));

function option(argv, flag, fallback) {
  const at = argv.indexOf(`--${flag}`);
  return at === -1 ? fallback : argv[at + 1];
}

/** Self time (µs) by function and by file from a .cpuprofile. */
export function selfTimes(profile, skipUs = 0) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += deltas[i] ?? 0;
    if (at < skipUs) continue;
    const dt = deltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map();
  const byFile = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    const file = shortFile(frame.url);
    const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    total += us;
  }
  return { byFunction, byFile, total };
}

function shortFile(url) {
  if (!url) return '(native)';
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(repoRoot)) return file.slice(repoRoot.length);
  const nm = file.lastIndexOf('node_modules/');
  return nm === -1 ? file : file.slice(nm + 'node_modules/'.length);
}

async function main() {
  const argv = process.argv.slice(2);
  const app = argv[0];
  if (!PATHS[app]) throw new Error(`app: one of ${Object.keys(PATHS).join(', ')}`);
  const agent = AGENTS.find((a) => a.id === option(argv, 'agent', 'ours'));
  if (!agent) throw new Error(`--agent: one of ${AGENTS.map((a) => a.id).join(', ')}`);
  const seconds = Number(option(argv, 'seconds', '8'));
  const top = Number(option(argv, 'top', '40'));
  const keep = option(argv, 'keep', undefined);
  const dir = keep ?? mkdtempSync(path.join(os.tmpdir(), 'profile-'));
  const sink = await startSink();
  const backend = await startBackend();
  const warmup = 2;
  const spawnedAt = performance.now();
  const server = await startApp({
    app,
    agentArgs: ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, '--import', exitAfter, ...agent.args({ sinkUrl: sink.url, app })],
    env: { ...agent.env({ sinkUrl: sink.url, app }), BACKEND_URL: `${backend.url}/`, PROFILE_EXIT_AFTER_MS: String((warmup + seconds + 1.5) * 1000) },
    cpu: null,
    node: nodeBinary(option(argv, 'node', '')),
  });
  let timedFromMs = 0;
  const load = await runLoad({
    url: `http://127.0.0.1:${server.port}${PATHS[app]}`, duration: seconds, warmup, connections: 10, cpu: null,
    beforeTimed: () => { timedFromMs = performance.now() - spawnedAt + 100; },
  });
  // The app exits by itself (profile-exit.mjs), which is when Node writes the profile.
  const deadline = Date.now() + 20000;
  let file;
  while (Date.now() < deadline) {
    file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 500));
  await server.stop();
  await sink.close();
  await backend.close();
  if (!file) throw new Error(`no profile written in ${dir}: ${server.stderr()}`);
  // Start-up and warm-up are left out: the timed run only (approximately: from when it began).
  const { byFunction, byFile, total } = selfTimes(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), timedFromMs * 1000);
  const requests = load.requests;
  const perReq = (us) => (us / requests).toFixed(2).padStart(7);
  const out = [`${app} under ${agent.id}: ${load.rps.toFixed(0)} req/s, profile ${(total / 1e6).toFixed(1)} s sampled, ~${requests.toFixed(0)} requests; µs of self time per request`];
  out.push('', 'by file:');
  for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) out.push(`${perReq(us)}  ${f}`);
  out.push('', 'by function:');
  for (const [f, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${perReq(us)}  ${f}`);
  out.push('', 'agent functions:');
  for (const [f, us] of [...byFunction].filter(([f]) => / dist\//.test(f)).sort((a, b) => b[1] - a[1]).slice(0, 25)) out.push(`${perReq(us)}  ${f}`);
  const ours = [...byFile].filter(([f]) => f.startsWith('dist/') || f.startsWith('register')).reduce((s, [, us]) => s + us, 0);
  out.push('', `agent files (dist/, register*): ${perReq(ours)} µs/request`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`profile failed: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
