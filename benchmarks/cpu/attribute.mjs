// Where a request's CPU goes, by clock, one server at a time (issue 20, round nine): the plain http app at a
// fixed offered rate (./load-child.mjs), warmed up, then one window measured per variant — the CPU of all its
// threads, its scavenges from --trace-gc-nvp (count, pause, bytes allocated, promoted and copied), and with
// --perf yes a `perf record -e cpu-clock -g` of the window (software clock: no hardware counters needed), the
// server run with --perf-basic-prof --interpreted-frames-native-stack so JavaScript frames have names.
// Variants as in ./cpu-per-request.mjs (no agent, sampled + OTLP to a sink in this process, sampled with
// exporter none, unsampled), one after another: one heavy job on a shared machine.
// Usage: node benchmarks/cpu/attribute.mjs [--agent /built/checkout] [--node /path/to/node] [--rate 3000]
//        [--warmup 9] [--seconds 8] [--variants none,unsampled,exporter-none,otlp] [--perf yes] [--out /dir]
//        [--allocations yes] [--closed yes]
// --closed yes (round fifteen): saturating closed-loop load instead, as the overhead benchmark's (autocannon,
// 10 connections, ../overhead/load.mjs), the server pinned to CPU 1 and the load to CPU 0 when taskset
// exists (../overhead/pinning.mjs): where the closed loop's exported-span figure goes, per kind of thread.
// --allocations yes (round fourteen): also runs V8's sampling heap profiler over the window (./heap-sample.cjs;
// HEAP_SAMPLE_INTERVAL bytes, default 256) and prints bytes a request by allocating function and by the
// agent's innermost frame (./heap-profile-summary.mjs). It slows the server: read the CPU and GC columns of a
// run without it.
// Reading a profile: perf report -i <out>/<variant>.data --no-children --sort dso,sym -g none, or
// perf script -i <out>/<variant>.data for whole stacks. The pauses --trace-gc-nvp reports are wall time (on a
// loaded machine a pause also waits for a sweeper task); the CPU of GC is in the profile
// (Heap::CollectGarbage, ScavengerCollector::JobTask). The per-thread-kind lines at the end split the window's
// CPU between the main thread and V8's / libuv's helper threads (round eleven).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVariants, startOtlpSink, variantEnv } from '../overhead/agent-variants.mjs';
import { appFolder } from '../overhead/app-folder.mjs';
import { threadCpuNs } from '../overhead/process-stats.mjs';
import { cleanEnv } from '../overhead/server.mjs';
import { runLoad } from '../overhead/load.mjs';
import { pinned, pinSelf } from '../overhead/pinning.mjs';
import { formatSummary, summarize } from './heap-profile-summary.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const agent = path.resolve(arg('agent', root));
const node = arg('node', process.execPath);
const rate = Number(arg('rate', '3000'));
const warmup = Number(arg('warmup', '9'));
const seconds = Number(arg('seconds', '8'));
const wanted = arg('variants', 'none,unsampled,exporter-none,otlp').split(',');
const perf = arg('perf', 'no') === 'yes';
const allocations = arg('allocations', 'no') === 'yes';
const closed = arg('closed', 'no') === 'yes';
// The sink lives in this process: on the load's core, off the server's.
if (closed) pinSelf(0);
const out = path.resolve(arg('out', path.join(os.tmpdir(), 'attribute')));
mkdirSync(out, { recursive: true });

const sink = await startOtlpSink();
const sinkUrl = sink.url;
const ENV = variantEnv({ sinkUrl });
checkVariants(wanted, ENV);
// From a folder of its own, as a user's app (../overhead/app-folder.mjs).
const { dir: cwd, file: app } = appFolder('http');

function load(port, secs) {
  if (closed) return runLoad({ url: `http://127.0.0.1:${port}/`, duration: secs, connections: 10, cpu: 0 }).then((r) => ({ answered: r.requests }));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(here, 'load-child.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(secs), '8'], { timeout: (secs + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
  });
}

/**
 * Per kind of thread (its name: `node` the main thread, `V8 DefaultWorke` V8's compiler and GC helpers,
 * `libuv-worker` the pool...), CPU ns, times scheduled and voluntary context switches so far, from
 * /proc/<pid>/task/<tid>/{comm,schedstat,status}: tells JIT and GC helper work and wake-ups apart from the
 * main thread's.
 */
function threadKinds(pid) {
  const kinds = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      const name = tid === String(pid) ? 'main' : readFileSync(`${dir}/comm`, 'utf8').trim();
      const [ns, , slices] = readFileSync(`${dir}/schedstat`, 'utf8').split(' ').map(Number);
      const voluntary = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`${dir}/status`, 'utf8'))[1]);
      // utime and stime (clock ticks), fields 14 and 15 of stat, counted after the parenthesised name.
      const stat = readFileSync(`${dir}/stat`, 'utf8');
      const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [utime, stime] = fieldsAfterName.slice(11, 13).map(Number);
      const faults = Number(fieldsAfterName[7]); // minflt, field 10
      const k = (kinds[name] ??= { ns: 0, slices: 0, voluntary: 0, utime: 0, stime: 0, faults: 0 });
      k.faults += faults;
      k.utime += utime;
      k.stime += stime;
      k.ns += ns;
      k.slices += slices;
      k.voluntary += voluntary;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return kinds;
}

/** `key=value` pairs of one --trace-gc-nvp line. */
const fields = (line) => Object.fromEntries(line.split(/\s+/).filter((x) => x.includes('=')).map((x) => x.split('=')));

async function measure(variant) {
  const extra = ENV[variant];
  const flags = ['--no-memory-reducer', '--trace-gc-nvp', ...(perf ? ['--perf-basic-prof', '--interpreted-frames-native-stack'] : []), '--require', path.join(here, 'gc-mark.cjs'), ...(allocations ? ['--require', path.join(here, 'heap-sample.cjs')] : [])];
  const nodeArgs = [...flags, ...(extra === null ? [] : ['--import', path.join(agent, 'register.mjs')]), app];
  const { command, args } = closed ? pinned(1, nodeArgs, node) : { command: node, args: nodeArgs };
  const child = spawn(command, args, {
    cwd, env: cleanEnv({ TRACING_SERVICE_NAME: 'cpu-bench', TRACING_LOG_LEVEL: 'error', PORT: '0', ...(allocations ? { HEAP_SAMPLE_OUT: path.join(out, `${variant}.heapprofile`) } : {}), ...(extra ?? {}) }), stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    const port = await new Promise((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      const poll = setInterval(() => {
        const m = /listening on (\d+)/.exec(text);
        if (m) {
          clearInterval(poll);
          resolve(Number(m[1]));
        }
      }, 20);
    });
    await load(port, warmup);
    child.kill('SIGUSR2');
    const before = threadCpuNs(child.pid);
    const kindsBefore = threadKinds(child.pid);
    const recorder = perf ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '4999', '-g', '-p', String(child.pid), '-o', path.join(out, `${variant}.data`)], { stdio: 'ignore' }) : null;
    const window = await load(port, seconds);
    child.kill('SIGUSR2');
    const cpuNs = threadCpuNs(child.pid) - before;
    const kindsAfter = threadKinds(child.pid);
    if (recorder !== null) {
      recorder.kill('SIGINT');
      await new Promise((r) => recorder.on('exit', r));
    }
    await new Promise((r) => setTimeout(r, 200));
    // The profile is serialised in the server after the window: wait for it (up to a minute).
    for (let i = 0; allocations && i < 600 && !existsSync(path.join(out, `${variant}.heapprofile`)); i++) await new Promise((r) => setTimeout(r, 100));
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.startsWith('GC-MARK 0'));
    const to = lines.findIndex((l) => l.startsWith('GC-MARK 1'));
    const begin = JSON.parse(lines[from].slice('GC-MARK 0 '.length));
    const end = JSON.parse(lines[to].slice('GC-MARK 1 '.length));
    const gc = { scavenges: 0, full: 0, scavengeMs: 0, allocated: 0, promoted: 0, copied: 0, freed: 0 };
    for (const line of lines.slice(from + 1, to)) {
      if (!line.includes('pause=')) continue;
      const f = fields(line);
      if (f.gc === 's') {
        gc.scavenges++;
        gc.scavengeMs += Number(f.pause);
      } else gc.full++;
      gc.allocated += Number(f.allocated ?? 0);
      gc.promoted += Number(f.promoted ?? 0);
      gc.copied += Number(f.new_space_survived ?? 0);
      gc.freed += Number(f.total_size_before ?? 0) - Number(f.total_size_after ?? 0);
    }
    // Exactly what the window allocated: the heap's growth plus what the collections in it freed. (The sum of
    // the lines' `allocated` counts from the collection before the window to the last one in it: one young
    // generation, some 8 MB, off at each end, several hundred bytes a request in a window of 24,000.)
    const allocatedInWindow = end.used - begin.used + gc.freed;
    writeFileSync(path.join(out, `${variant}.gc.txt`), lines.slice(from, to + 1).join('\n'));
    const n = window.answered;
    let heap = null;
    if (allocations) {
      try {
        heap = formatSummary(summarize(JSON.parse(readFileSync(path.join(out, `${variant}.heapprofile`), 'utf8')), n, agent), 25);
      } catch (err) {
        heap = `no heap profile: ${err.message}`;
      }
    }
    const threads = Object.entries(kindsAfter).map(([name, a]) => {
      const b = kindsBefore[name] ?? { ns: 0, slices: 0, voluntary: 0, utime: 0, stime: 0, faults: 0 };
      const tick = 1e4 / n; // µs a request per 10 ms tick
      return `${name} ${((a.ns - b.ns) / 1000 / n).toFixed(2)} µs (user ${((a.utime - b.utime) * tick).toFixed(1)}, system ${((a.stime - b.stime) * tick).toFixed(1)}), ${((a.slices - b.slices) / n).toFixed(2)} runs, ${((a.voluntary - b.voluntary) / n).toFixed(2)} sleeps, ${((a.faults - b.faults) / n).toFixed(3)} page faults`;
    }).join('; ');
    return {
      variant, answered: n, cpuUsPerRequest: cpuNs / 1000 / n, scavengesPer10k: (gc.scavenges * 1e4) / n, fullGcs: gc.full,
      scavengePauseMsPer10k: (gc.scavengeMs * 1e4) / n, allocatedBytesPerRequest: gc.allocated / n, allocatedExactPerRequest: allocatedInWindow / n, promotedBytesPerRequest: gc.promoted / n,
      copiedBytesPerRequest: gc.copied / n, threads, heap, newSpaceMB: end.newSpace / 2 ** 20, rssMB: end.rss / 2 ** 20, pid: child.pid,
    };
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
  }
}

console.log(`node ${String(await new Promise((r) => execFile(node, ['--version'], (e, so) => r(so)))).trim()}; ${agent}; ${closed ? 'closed loop (10 connections, server on CPU 1)' : `${rate} req/s`}, ${warmup} s warm-up, ${seconds} s measured; load average ${os.loadavg()[0].toFixed(1)}${perf ? `; perf data in ${out}` : ''}`);
console.log('');
console.log('| variant | answered | CPU µs/request (all threads) | scavenges per 10,000 | scavenge pause ms per 10,000 (wall) | full GCs | bytes allocated / request (GC lines) | bytes allocated / request (heap used + freed) | promoted / request | copied / request | new space MB | RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const results = [];
for (const v of wanted) {
  const r = await measure(v);
  results.push(r);
  console.log(`| ${r.variant} | ${r.answered} | ${r.cpuUsPerRequest.toFixed(1)} | ${r.scavengesPer10k.toFixed(1)} | ${r.scavengePauseMsPer10k.toFixed(1)} | ${r.fullGcs} | ${r.allocatedBytesPerRequest.toFixed(0)} | ${r.allocatedExactPerRequest.toFixed(0)} | ${r.promotedBytesPerRequest.toFixed(1)} | ${r.copiedBytesPerRequest.toFixed(1)} | ${r.newSpaceMB.toFixed(0)} | ${r.rssMB.toFixed(1)} |`);
}
console.log('');
console.log('Per kind of thread, a request: CPU, times scheduled, voluntary sleeps, minor page faults');
for (const r of results) console.log(`- ${r.variant}: ${r.threads}`);
if (allocations) {
  console.log('');
  console.log(`Allocations in the window (V8's sampling heap profiler, ${process.env.HEAP_SAMPLE_INTERVAL ?? 256} B interval; profiles in ${out})`);
  for (const r of results) console.log(`- ${r.variant}: ${r.heap}`);
}
await sink.close();
process.exit(0);
