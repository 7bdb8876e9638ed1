// What each phase of the plain http app's life leaves alive in V8's young generation, with and without the agent:
// the bytes V8 then copies and promotes, and counts towards growing the new space (./gc-survival.mjs). The app
// (below, in a child) forces two scavenges after each phase; the first one's copied bytes are what the phase keeps,
// the second promotes them. The semi-spaces are made large (--min-semi-space-size=16, diagnosis only) so that no
// other scavenge falls inside a phase; a large object (the core bundle's text, > 128 KiB) is promoted at once and
// shown apart. Phases: start (Node and --import: the agent's register, configuration and hooks), `import('node:http')`
// (the agent builds its core when http is patched), listen, the first request (over a raw socket: no client span),
// requests 2 - 51, 1.2 s idle (the first batch's export).
// Usage: node benchmarks/memory/young-by-phase.mjs [--variants none,disabled,exporter-none,unsampled,otlp]
//        [--agents /path/to/built/checkout,...] [--node /path/to/node] [--runs 1] [--from-repo]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PHASES = ['start', 'import http', 'listen', 'request 1', 'requests 2-51', 'idle 1.2 s'];

if (process.env.YOUNG_BY_PHASE_CHILD !== undefined) {
  const net = await import('node:net');
  const phase = () => {
    globalThis.gc({ type: 'minor' });
    globalThis.gc({ type: 'minor' });
  };
  phase();
  const { default: http } = await import('node:http');
  phase();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello world');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  phase();
  const socket = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => socket.on('connect', r));
  const get = () => new Promise((r) => socket.once('data', () => r()).write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await get();
  phase();
  for (let i = 0; i < 50; i++) await get();
  phase();
  await new Promise((r) => setTimeout(r, 1200));
  phase();
  socket.destroy();
  server.close();
} else {
  const { startOtlpSink, variantEnv, checkVariants } = await import('../overhead/agent-variants.mjs');
  const { cleanEnv } = await import('../overhead/server.mjs');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const arg = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at === -1 ? fallback : process.argv[at + 1];
  };
  const node = arg('node', process.execPath);
  const runs = Number(arg('runs', '1'));
  const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((a) => path.resolve(a));
  const wanted = arg('variants', 'none,disabled,exporter-none,unsampled,otlp').split(',');
  // The app runs from a folder of its own whose node_modules is empty, as in ./under-load.mjs: from this repository
  // the agent would find the devDependencies' instrumented packages (--from-repo keeps that case, for diagnosis).
  const fromRepo = process.argv.includes('--from-repo');
  const work = mkdtempSync(path.join(os.tmpdir(), 'young-by-phase-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  mkdirSync(path.join(work, 'node_modules'));
  const appFile = fromRepo ? fileURLToPath(import.meta.url) : path.join(work, 'app.mjs');
  if (!fromRepo) copyFileSync(fileURLToPath(import.meta.url), appFile);
  const sink = await startOtlpSink();
  const all = variantEnv({ sinkUrl: sink.url });
  checkVariants(wanted, all);
  console.log(`${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}; KB copied by the first scavenge after each phase (+ a large object promoted)`);
  console.log('');
  console.log(`| variant | agent | ${PHASES.join(' | ')} |`);
  console.log(`|---|---|${PHASES.map(() => '---').join('|')}|`);
  for (let run = 0; run < runs; run++) {
    for (const variant of wanted) {
      for (const agent of all[variant] === null ? [null] : agents) {
        const extra = all[variant];
        const args = ['--expose-gc', '--trace-gc-nvp', '--min-semi-space-size=16', ...(agent === null ? [] : ['--import', path.join(agent, 'register.mjs')]), appFile];
        const out = execFileSync(node, args, { encoding: 'utf8', cwd: fromRepo ? process.cwd() : work, env: cleanEnv({ ...(extra ?? {}), YOUNG_BY_PHASE_CHILD: '1', TRACING_LOG_LEVEL: 'error', ...(process.env.TRACING_CACHE_DIR === undefined ? {} : { TRACING_CACHE_DIR: process.env.TRACING_CACHE_DIR }) }) });
        const scavenges = out.split('\n').filter((l) => / gc=s /.test(l)).map((l) => Object.fromEntries(l.split(/\s+/).filter((x) => x.includes('=')).map((x) => x.split('='))));
        if (scavenges.length !== PHASES.length * 2) throw new Error(`${variant}: ${scavenges.length} scavenges, expected ${PHASES.length * 2} (one fell inside a phase)`);
        const cells = PHASES.map((_, i) => {
          const s = scavenges[i * 2];
          const large = Number(s.promoted ?? 0) / 1024;
          return `${(Number(s.new_space_survived ?? s.semi_space_copied ?? 0) / 1024).toFixed(1)}${large > 0 ? ` (+${large.toFixed(0)})` : ''}`;
        });
        console.log(`| ${variant} | ${agent === null ? '-' : path.basename(agent)} | ${cells.join(' | ')} |`);
      }
    }
  }
  await sink.close();
}
