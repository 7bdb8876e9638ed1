// Instructions per span of the OTLP/protobuf batch encoder alone (OtlpBatchEncoder.append, and seal
// every 512 spans), counted by valgrind's callgrind: each build encodes the same finished spans shaped
// like the plain http server's (span.kind, http.method, http.url, peer.ipv4, peer.port, http.status_code;
// one `http.url` string for all, as the server's one-entry cache gives; a peer address and port per
// connection, eight connections taking turns at random) twice, --short and --long spans after the same
// warm-up, and the difference of the two runs' totals per extra span is the figure: start-up, loading
// and compiling cancel out. (Ids and times are new in every process, so the bodies cannot be compared
// across builds here: test/unit/export/otlp-batch-encoder.test.ts checks the bytes.)
// Usage: node benchmarks/micro/encode-instructions.mjs --agents /build/a[,/build/b] [--short 40000] [--long 160000]
//        [--warmup 40000] [--node /path/to/node] [--keep]
// --keep: the long run's callgrind file and perf map are kept (folder printed), for
// callgrind-functions.mjs (divide by --long + --warmup spans for a whole-run figure per span).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  const count = Number(arg('count', '1000'));
  const warmup = Number(arg('warmup', '40000'));
  const require = createRequire(path.join(root, 'package.json'));
  const { Tracer } = require(path.join(root, 'dist/src/index.js'));
  const { OtlpBatchEncoder, encodeEnvelope } = require(path.join(root, 'dist/src/export/otlp-protobuf.js'));
  const { buildResource } = require(path.join(root, 'dist/src/export/resource.js'));
  const encoder = new OtlpBatchEncoder(encodeEnvelope(buildResource({ 'service.name': 'encode-instructions' })), false);
  const finished = finishedServerSpans(Tracer);
  let sealed = 0;
  let bytes = 0;
  const run = (n) => {
    for (let i = 0; i < n; i++) {
      encoder.append(finished[i & 1023]);
      if (encoder.openCount >= 512) {
        const batch = encoder.seal();
        bytes += batch.bytes.length;
        sealed++;
        batch.release?.();
      }
    }
  };
  run(warmup);
  run(count);
  process.stdout.write(JSON.stringify({ sealed, bytes }));
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
const short = Number(arg('short', '40000'));
const long = Number(arg('long', '160000'));
const warmup = arg('warmup', '40000');
const node = arg('node', process.execPath);
const keep = process.argv.includes('--keep');

function count(root, n, keepFiles) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'encode-instructions-'));
  const out = path.join(work, 'callgrind.out');
  const stdout = execFileSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, node, '--random-seed=42', ...(keep ? ['--perf-basic-prof'] : []),
    fileURLToPath(import.meta.url), '--child', '--root', root, '--count', String(n), '--warmup', warmup], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'))[1]);
  if (keepFiles) {
    // The perf map is written by the child (valgrind runs node in the same process).
    const pidLine = /^pid: (\d+)/m.exec(readFileSync(out, 'utf8'));
    const map = pidLine ? `/tmp/perf-${pidLine[1]}.map` : '';
    if (map && existsSync(map)) {
      copyFileSync(map, path.join(work, path.basename(map)));
      rmSync(map, { force: true });
    }
    console.error(`${root}: callgrind file of ${n} spans kept in ${work}`);
  } else rmSync(work, { recursive: true, force: true });
  return { total, ...JSON.parse(stdout) };
}

console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, encoder alone, ${warmup} spans of warm-up, then ${short} or ${long}; instructions per span = difference of the two runs / ${long - short}`);
console.log('');
console.log('| build | instructions per span | bytes per span |');
console.log('|---|---:|---|');
for (const root of agents) {
  const a = count(root, short, false);
  const b = count(root, long, keep);
  console.log(`| ${root} | ${((b.total - a.total) / (long - short)).toFixed(0)} | ${((b.bytes - a.bytes) / (long - short)).toFixed(1)} |`);
}
