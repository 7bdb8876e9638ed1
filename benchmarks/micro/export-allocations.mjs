// Bytes the exporter's send allocates on the main thread's heap per batch (issue 20, round seventeen): each
// build's HttpSender (retry loop and transport: the exchange) POSTs one body at a time to a sink in another
// process, the body with the room before it an encoder leaves (the request head is written there), as the
// batch processor sends an encoded batch. Each build runs in a child of its own with a new space large
// enough (--max-semi-space-size=64) that no scavenge falls in the window: after --warmup sends and a full
// GC, the heap's growth over --sends sends, divided by the sends, is what one exchange allocated (what V8
// collects young in a real server, and what a scavenge that falls inside an exchange finds alive). Node's
// own allocations for the socket write and read are in it; the sink's are not. Same count at any load.
// Usage: node benchmarks/micro/export-allocations.mjs --agents /build/a[,/build/b] [--bytes 110000]
//        [--warmup 200] [--sends 200] [--repeat 2] [--node /path/to/node] [--through sender|exporter]
import { execFileSync, fork } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const self = fileURLToPath(import.meta.url);

if (process.argv.includes('--sink')) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else if (process.argv.includes('--child')) {
  const root = arg('root', '');
  const bytes = Number(arg('bytes', '110000'));
  const load = createRequire(path.join(root, 'package.json'));
  const { HttpSender } = load(path.join(root, 'dist/src/export/http-sender.js'));
  const { OtlpSpanExporter } = load(path.join(root, 'dist/src/export/otlp.js'));
  const url = arg('url', '');
  const sender = new HttpSender({ url, contentType: 'application/x-protobuf' });
  const room = sender.framingBytes ?? 0;
  const memory = Buffer.alloc(room + bytes, 7);
  const body = memory.subarray(room);
  const hold = setInterval(() => {}, 3_600_000);
  // --through exporter: the OTLP exporter's `exportEncoded` of a batch made by its encoder (as the batch
  // processor hands it one), counters and release included; else the sender's `send` alone.
  const exporter = arg('through', 'sender') === 'exporter' ? new OtlpSpanExporter({ url, resource: { 'service.name': 'export-allocations' } }) : null;
  const batch = { count: 512, bytes: body, headroom: room, release() {} };
  const send = async (n) => {
    for (let i = 0; i < n; i++) {
      if (exporter !== null) {
        await exporter.exportEncoded(batch);
        continue;
      }
      const result = await sender.send(body, room);
      if (!result.ok) throw new Error(`send failed: ${result.reason}`);
    }
    if (exporter !== null && exporter.stats().droppedSpans > 0) throw new Error('the exporter dropped spans');
  };
  await send(Number(arg('warmup', '200')));
  const sends = Number(arg('sends', '200'));
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  await send(sends);
  const after = process.memoryUsage().heapUsed;
  clearInterval(hold);
  sender.shutdown();
  const result = { perSend: (after - before) / sends };
  // Run by hand (e.g. under valgrind, against a sink of one's own): the figure on stdout.
  if (process.send === undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.send(result);
} else {
  const here = path.dirname(self);
  const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
  const node = arg('node', process.execPath);
  const repeat = Number(arg('repeat', '2'));
  const sink = fork(self, ['--sink']);
  const port = await new Promise((resolve) => sink.once('message', resolve));
  const url = `http://127.0.0.1:${port}/v1/traces`;
  const rows = new Map(agents.map((a) => [a, []]));
  for (let r = 0; r < repeat; r++) {
    for (const root of agents) {
      const child = fork(self, ['--child', '--root', root, '--url', url, '--bytes', arg('bytes', '110000'), '--warmup', arg('warmup', '200'), '--sends', arg('sends', '200'), '--through', arg('through', 'sender')], {
        execPath: node,
        execArgv: ['--expose-gc', '--max-semi-space-size=64', '--min-semi-space-size=64', '--trace-gc'],
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
      const result = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`${root}: child exited ${code}`)));
      });
      await new Promise((resolve) => child.once('exit', resolve));
      // Only the full GC asked for before the window (and any at start-up) may show: a scavenge inside it
      // would make the figure meaningless.
      const scavenges = out.split('\n').filter((l) => l.includes('Scavenge')).length;
      rows.get(root).push(`${result.perSend.toFixed(0)}${scavenges > 0 ? ` (${scavenges} scavenges in the run)` : ''}`);
    }
  }
  sink.kill();
  const version = node === process.execPath ? process.version : execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`Node ${version}; through the ${arg('through', 'sender')}; ${arg('sends', '200')} sends of ${arg('bytes', '110000')} bytes after ${arg('warmup', '200')}`);
  console.log('');
  console.log('| build | heap bytes allocated per send (each run) |');
  console.log('|---|---|');
  for (const [root, xs] of rows) console.log(`| ${root} | ${xs.join(', ')} |`);
}
