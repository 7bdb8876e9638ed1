// Instructions per exported batch of the whole export path after the span is finished (issue 20, round
// fifteen): the batch processor's `onEnd` for 512 finished spans shaped like the plain http server's
// (encoded as they arrive), the seal, the send through the build's OTLP/HTTP exporter (retry loop and
// transport) to a sink in this process, and the reading of the sink's answer — counted by valgrind's
// callgrind in a child process (`--single-threaded --random-seed=42`: TurboFan's work on the main thread,
// counted, and the same from run to run). Each build runs --warmup batches and then --short or --long
// more; the difference of the two runs' totals per extra batch is the figure (start-up, loading and
// warm-up cancel out). User space only: the kernel's share of the socket write is not in it
// (`strace -c` / perf for that). Divide by 512 for a figure per span.
// Usage: node benchmarks/micro/batch-instructions.mjs --agents /build/a[,/build/b] [--warmup 100] [--short 50]
//        [--long 150] [--node /path/to/node] [--repeat 1] [--keep]
// --keep: both runs' callgrind files are kept with their perf maps (folders printed), for
// callgrind-functions.mjs (short run's file and 0, long run's and --long − --short: per batch by function).
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { finishedServerSpans } from './server-spans.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};

if (process.argv.includes('--child')) {
  const root = arg('root', '');
  const batches = Number(arg('batches', '10'));
  const require = createRequire(path.join(root, 'package.json'));
  const { Tracer } = require(path.join(root, 'dist/src/index.js'));
  const { OtlpSpanExporter } = require(path.join(root, 'dist/src/export/otlp.js'));
  const { BatchSpanProcessor } = require(path.join(root, 'dist/src/export/batch-processor.js'));
  const exporter = new OtlpSpanExporter({ url: arg('url', ''), resource: { 'service.name': 'batch-instructions' } });
  // A batch is sent when the test says so (forceFlush), never by the processor's timer.
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 60_000 });
  const finished = finishedServerSpans(Tracer);
  // The exporter's sockets and timers are unref'd (they never hold an app open): this holds the loop.
  const hold = setInterval(() => {}, 3_600_000);
  let next = 0;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < 512; i++) processor.onEnd(finished[next++ & 1023]);
    await processor.forceFlush();
  }
  clearInterval(hold);
  const stats = exporter.stats();
  process.stdout.write(JSON.stringify(stats));
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
const warmup = Number(arg('warmup', '100'));
const short = Number(arg('short', '50'));
const long = Number(arg('long', '150'));
const repeat = Number(arg('repeat', '1'));
const node = arg('node', process.execPath);
const keep = process.argv.includes('--keep');

// The sink: reads each body, answers 200 with an empty body (as the benchmarks' sinks do).
let bodies = 0;
const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    bodies++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
    res.end();
  });
});
sink.keepAliveTimeout = 60_000;
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}/v1/traces`;

function count(root, batches) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'batch-instructions-'));
  const out = path.join(work, 'callgrind.out');
  return new Promise((resolve, reject) => {
    execFile('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, node, '--single-threaded', '--random-seed=42', ...(keep ? ['--perf-basic-prof'] : []), fileURLToPath(import.meta.url), '--child', '--root', root, '--batches', String(batches), '--url', sinkUrl],
      { encoding: 'utf8', maxBuffer: 1 << 24 }, (err, stdout) => {
        if (err) return reject(err);
        const text = readFileSync(out, 'utf8');
        const total = Number(/^(?:summary|totals): (\d+)/m.exec(text)[1]);
        if (keep) {
          // The perf map is written by the child (valgrind runs node in the same process).
          const map = `/tmp/perf-${/^pid: (\d+)/m.exec(text)?.[1]}.map`;
          if (existsSync(map)) renameSync(map, path.join(work, path.basename(map)));
          console.error(`${root}, ${batches} batches: callgrind file kept in ${work}`);
        } else rmSync(work, { recursive: true, force: true });
        resolve({ total, ...JSON.parse(stdout) });
      });
  });
}

console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, --single-threaded, batches of 512 spans: ${warmup} of warm-up, then ${short} or ${long}; instructions per batch = difference of the two runs / ${long - short}; load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| build | instructions per batch | per span | spans exported (short / long run) |');
console.log('|---|---:|---:|---|');
for (let r = 0; r < repeat; r++) {
  for (const root of agents) {
    const a = await count(root, warmup + short);
    const b = await count(root, warmup + long);
    const perBatch = (b.total - a.total) / (long - short);
    console.log(`| ${root} | ${(perBatch / 1000).toFixed(1)} k | ${(perBatch / 512).toFixed(0)} | ${a.exportedSpans} / ${b.exportedSpans} |`);
  }
}
sink.close();
process.exit(0);
