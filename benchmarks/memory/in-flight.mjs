// Young bytes per request in flight (issue 20's new space on Node 24): the plain http server of this file holds
// --held requests in its handler, forces one minor GC (what it copies is what lives), reads the new space's use,
// answers them, forces one more and reads again; the difference over --held, per round, median over --rounds
// after 5 warm-up rounds. The client writes raw requests over --held kept-alive sockets of `node:net` (no client
// span). `--single-threaded-gc`: the parallel scavenger's reading moves in ~32-KB steps. A count the machine's
// load does not change (two runs read to the byte on Node 20 and 24; Node 26's new space reads 0 here).
// Usage: node benchmarks/memory/in-flight.mjs [--agents /built/checkout,...] [--samplers always_on,always_off]
//        [--node /path/to/node] [--rounds 30] [--held 8]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};

if (process.env.IN_FLIGHT_CHILD !== undefined) {
  const http = await import('node:http');
  const net = await import('node:net');
  const v8 = await import('node:v8');
  const held = Number(process.env.IN_FLIGHT_HELD);
  const rounds = Number(process.env.IN_FLIGHT_ROUNDS);
  const waiting = [];
  let allHeld = null;
  const server = http.createServer((req, res) => {
    waiting.push(res);
    if (waiting.length === held) allHeld();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let answered = 0;
  let allAnswered = null;
  const sockets = [];
  for (let i = 0; i < held; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', (d) => {
      answered += (d.toString('latin1').match(/HTTP\/1\.1 /g) ?? []).length;
      if (answered === held) allAnswered();
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    sockets.push(socket);
  }
  const newSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_used_size;
  const perRequest = [];
  for (let round = 0; round < rounds + 5; round++) {
    const held$ = new Promise((resolve) => (allHeld = resolve));
    for (const socket of sockets) socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await held$;
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc({ type: 'minor' });
    const withHeld = newSpaceUsed();
    answered = 0;
    const answered$ = new Promise((resolve) => (allAnswered = resolve));
    for (const res of waiting.splice(0)) res.end('ok');
    await answered$;
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc({ type: 'minor' });
    if (round >= 5) perRequest.push((withHeld - newSpaceUsed()) / held);
  }
  perRequest.sort((a, b) => a - b);
  console.log(JSON.stringify({ median: perRequest[perRequest.length >> 1], min: perRequest[0], max: perRequest[perRequest.length - 1] }));
  for (const socket of sockets) socket.destroy();
  server.close();
} else {
  const node = arg('node', process.execPath);
  const agents = arg('agents', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')).split(',');
  const samplers = arg('samplers', 'always_on,always_off').split(',');
  const env = { ...process.env, IN_FLIGHT_CHILD: '1', IN_FLIGHT_HELD: arg('held', '8'), IN_FLIGHT_ROUNDS: arg('rounds', '30'), TRACING_EXPORTER: 'none' };
  const self = fileURLToPath(import.meta.url);
  const run = (extra, moreEnv) => JSON.parse(execFileSync(node, ['--expose-gc', '--single-threaded-gc', ...extra, self], { env: { ...env, ...moreEnv }, encoding: 'utf8' }).trim());
  console.log(`${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}; young bytes per request in flight (median [min, max])`);
  console.log('| agent | sampler | bytes |');
  console.log('|---|---|---:|');
  const show = (agent, sampler, r) => console.log(`| ${agent} | ${sampler} | ${r.median} [${r.min}, ${r.max}] |`);
  show('none', '-', run([], {}));
  for (const agent of agents) {
    for (const sampler of samplers) show(agent, sampler, run(['--import', path.join(agent, 'register.mjs')], { TRACING_SAMPLER: sampler }));
  }
}
