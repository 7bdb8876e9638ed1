// The exporter's send alone, build against build: CPU of this process per POST of one batch body
// (default 110,000 bytes: ~512 http server spans) through each build's HttpSender (retry loop and
// transport included) to a sink in another process, one send at a time with a 1 ms pause between
// (so each starts from an idle loop, as a batch does under a server's load). The same loop with an
// empty step gives the cost of the pause's wake-up, subtracted round by round. Builds alternate
// round by round; medians. Divide by the spans of a batch for the cost per exported span.
// Usage: node benchmarks/micro/export-send.mjs --agents /build/a,/build/b [--bytes 110000] [--sends 200] [--rounds 10]
import { fork } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};

if (process.argv.includes('--sink')) {
  // An OTLP/HTTP sink: reads the body, answers 200 with an empty body.
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end());
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const agents = arg('agents', path.resolve(here, '..', '..')).split(',').map((p) => path.resolve(p));
  const bytes = Number(arg('bytes', '110000'));
  const sends = Number(arg('sends', '200'));
  const rounds = Number(arg('rounds', '10'));
  const sink = fork(fileURLToPath(import.meta.url), ['--sink']);
  const port = await new Promise((resolve) => sink.once('message', resolve));
  const url = `http://127.0.0.1:${port}/v1/traces`;
  const body = Buffer.alloc(bytes, 7);
  const steps = new Map([['(idle wake-up)', () => new Promise((resolve) => setImmediate(resolve))]]);
  for (const root of agents) {
    const { HttpSender } = createRequire(path.join(root, 'package.json'))(path.join(root, 'dist/src/export/http-sender.js'));
    const sender = new HttpSender({ url, contentType: 'application/x-protobuf' });
    steps.set(root, () => sender.send(body));
  }
  const cpu = new Map([...steps.keys()].map((k) => [k, []]));
  for (const step of steps.values()) for (let i = 0; i < 30; i++) await step();
  for (let r = 0; r < rounds; r++) {
    const order = [...steps.keys()];
    if (r % 2 === 1) order.reverse();
    for (const name of order) {
      const step = steps.get(name);
      const before = process.cpuUsage();
      for (let i = 0; i < sends; i++) {
        await step();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const used = process.cpuUsage(before);
      cpu.get(name).push((used.user + used.system) / sends);
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const idle = cpu.get('(idle wake-up)');
  console.log(`${rounds} rounds × ${sends} sends of ${bytes} bytes, Node ${process.version}`);
  console.log('');
  console.log('| build | CPU µs per send (median, idle wake-up subtracted per round) | rounds |');
  console.log('|---|---:|---|');
  for (const root of agents) {
    const net = cpu.get(root).map((x, i) => x - idle[i]);
    console.log(`| ${root} | ${median(net).toFixed(0)} | ${net.map((x) => x.toFixed(0)).join(', ')} |`);
  }
  sink.kill();
  process.exit(0);
}
