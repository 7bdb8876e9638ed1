// Instructions per request of request-events.mjs's in-process server path, counted by valgrind's
// callgrind (all threads of the process), for a no-agent baseline and each build: a count the
// machine's load does not change, where CPU time on a shared 2-core machine swings by more than the
// few hundred nanoseconds a hot-path change is worth. Each figure is the difference between a child
// that serves 4 × --requests requests and one that serves --requests (each after as many warm-up
// requests), divided by the difference: start-up, loading and most of the JIT's warm-up cancel out.
// Slow (valgrind runs Node ~50× slower): about a minute per build and scenario.
// Usage: node benchmarks/micro/request-instructions.mjs --agents /build/a,/build/b [--requests 2000]
//        [--scenarios plain,body] [--samplers always_off,always_on]
// The Node that runs this script runs the children (use the node-lines binaries for Node 24).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const requests = Number(arg('requests', '2000'));
const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
const scenarios = arg('scenarios', 'plain,body').split(',');
const samplers = arg('samplers', 'always_off,always_on').split(',');
const script = path.join(here, 'request-events.mjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'request-instructions-'));

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(1);
}

function instructions(root, scenario, sampler, count) {
  const out = path.join(work, 'callgrind.out');
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRACING_|OTEL_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  execFileSync('valgrind', [
    '--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath,
    ...(root === null ? [] : ['--import', path.join(root, 'register.mjs')]), script, 'child', scenario, String(count),
  ], { cwd: work, env: { ...env, TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'error', TRACING_SAMPLER: sampler }, stdio: 'ignore' });
  const summary = /^summary: (\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  if (summary === null) throw new Error('callgrind wrote no summary');
  return Number(summary[1]);
}

const perRequest = (root, scenario, sampler) =>
  // Each child serves its count twice (warm-up, then measured): 2 × (4n − n) more requests.
  (instructions(root, scenario, sampler, 4 * requests) - instructions(root, scenario, sampler, requests)) / (6 * requests);

console.log(`node ${process.version}, callgrind instructions per request (children of ${requests} and ${4 * requests} requests, each served twice)`);
console.log('');
console.log(`| scenario | sampler | no agent | ${agents.map((a) => `${path.basename(a)} (added)`).join(' | ')} |`);
console.log(`|---|---|---:|${agents.map(() => '---:').join('|')}|`);
try {
  for (const scenario of scenarios) {
    const none = perRequest(null, scenario, 'always_on');
    for (const sampler of samplers) {
      const cells = agents.map((a) => {
        const n = perRequest(a, scenario, sampler);
        return `${(n / 1000).toFixed(1)} k (+${((n - none) / 1000).toFixed(1)} k)`;
      });
      console.log(`| ${scenario} | ${sampler} | ${(none / 1000).toFixed(1)} k | ${cells.join(' | ')} |`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
