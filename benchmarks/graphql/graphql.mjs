// CPU per GraphQL operation and spans per operation: no agent, the agent with its graphql instrumentation
// off (what the agent costs this load anyway), the agent (operation spans), and the agent with resolver spans on, interleaved in one run so a shared machine's drift hits all three alike.
// Two operations: a small one (one user, its posts) and a 10,000-item list (every user with its posts,
// an async resolver per item). Each operation is a full `graphql()` call (parse, validate, execute), as a
// server that does not cache documents makes it; spans go over OTLP/protobuf to a local sink, which
// decodes them with OpenTelemetry's generated code to count them. Every operation runs under a parent span
// (standing in for the request's server span), which counts in spans/op; the span queue is made large
// enough that none is dropped.
// Run: node benchmarks/graphql/graphql.mjs [rounds=7] [smallOps=2000] [largeOps=4]   (after npm run build)
import { fork } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

const SMALL = 'query Small($id: ID!) { user(id: $id) { id name posts { id title } } }';
const LARGE = 'query Large { users(count: 10000) { id name posts { id title } } }';

if (process.argv[2] === 'child') child();
else await parent();

function child() {
  const graphql = require('graphql');
  const schema = graphql.buildSchema(`
    type Query { user(id: ID!): User users(count: Int!): [User!]! }
    type User { id: ID! name: String! posts: [Post!]! }
    type Post { id: ID! title: String! }
  `);
  const fields = (type) => schema.getType(type).getFields();
  fields('Query').user.resolve = async (_s, { id }) => ({ id, name: `user${id}` });
  fields('Query').users.resolve = (_s, { count }) => Array.from({ length: count }, (_, i) => ({ id: String(i), name: `user${i}` }));
  fields('User').posts.resolve = async (u) => [{ id: `${u.id}-p`, title: 'first' }];
  // Each operation runs under a span of its own, as under a request's server span: the agent's async
  // context is then live in every agent variant alike (without an active span Node never switches it on,
  // and the graphql instrumentation would be charged with what any traced request costs anyway).
  const { globalTracer } = require(root);
  const tracer = globalTracer();
  let total = 0;
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') {
      process.send({ total });
      process.disconnect();
      return;
    }
    const source = msg.query === 'small' ? SMALL : LARGE;
    const before = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < msg.ops; i++) {
      const result = await tracer.startActiveSpan('request', undefined, () => graphql.graphql({ schema, source, variableValues: { id: String(i) } }));
      if (result.errors) throw new Error(result.errors[0].message);
    }
    const cpu = process.cpuUsage(before);
    total += msg.ops;
    process.send({ cpuMicros: (cpu.user + cpu.system) / msg.ops, wallMs: Number(process.hrtime.bigint() - started) / 1e6 / msg.ops });
  });
  process.send({ ready: true });
}

async function parent() {
  const [rounds = 7, smallOps = 2000, largeOps = 4] = process.argv.slice(2).map(Number);
  const codec = require('@opentelemetry/otlp-transformer/build/src/generated/root.js').opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  const { gunzipSync } = await import('node:zlib');
  const variants = {
    'no agent': { agent: false },
    // The agent's own cost on this load (async context for every promise), graphql instrumentation off.
    'agent, graphql off': { agent: true, env: { TRACING_DISABLED_INSTRUMENTATIONS: 'graphql' } },
    agent: { agent: true },
    'agent, resolver spans': { agent: true, config: { instrumentations: { graphql: { resolverSpans: true } } } },
  };
  const fs = await import('node:fs');
  const os = await import('node:os');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'graphql-bench-'));

  // One child per variant and operation, so each sink's count is the spans of one kind of operation.
  const procs = {};
  for (const [variant, v] of Object.entries(variants)) for (const query of ['small', 'large']) {
    const name = `${variant}|${query}`;
    const sink = { spans: 0, server: null };
    sink.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c)).on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const msg = codec.decode(body);
        for (const rs of msg.resourceSpans) for (const ss of rs.scopeSpans) sink.spans += ss.spans.length;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    const env = { ...process.env, TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: `http://127.0.0.1:${sink.server.address().port}/v1/traces`, TRACING_LOG_LEVEL: 'warn', TRACING_BATCH_QUEUE_SIZE: '1000000' };
    Object.assign(env, v.env);
    if (v.config) {
      const file = path.join(tmp, `${name.replace(/\W+/g, '-')}.json`);
      fs.writeFileSync(file, JSON.stringify(v.config));
      env.TRACING_CONFIG = file;
    }
    const proc = fork(fileURLToPath(import.meta.url), ['child'], { env, execArgv: v.agent ? ['--import', path.join(root, 'register.mjs')] : [], stdio: 'inherit' });
    await new Promise((resolve) => proc.once('message', resolve));
    procs[name] = { proc, sink };
  }
  const run = (variant, query, ops) => new Promise((resolve) => {
    const { proc } = procs[`${variant}|${query}`];
    proc.once('message', resolve);
    proc.send({ cmd: 'run', query, ops });
  });

  const names = Object.keys(variants);
  const results = {};
  for (const query of ['small', 'large']) {
    const ops = query === 'small' ? smallOps : largeOps;
    for (const name of names) await run(name, query, ops); // warm-up
    results[query] = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? names : [...names].reverse()) results[query][name].push(await run(name, query, ops));
    }
  }
  // Spans per operation: every operation a child ran, warm-ups included, against what its sink received.
  const perOp = {};
  for (const name of Object.keys(procs)) {
    const { proc, sink } = procs[name];
    const done = new Promise((resolve) => proc.once('exit', resolve));
    const total = await new Promise((resolve) => {
      proc.once('message', (m) => resolve(m.total));
      proc.send({ cmd: 'stop' });
    });
    await done;
    perOp[name] = { total, spans: sink.spans };
    sink.server.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  console.log(`graphql ${require('graphql').version}, full graphql() per operation, ${rounds} rounds, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| operation | variant | CPU µs/op (median) | × no agent | wall ms/op | spans/op |');
  console.log('|---|---|---|---|---|---|');
  for (const query of ['small', 'large']) {
    const base = median(results[query]['no agent'].map((m) => m.cpuMicros));
    for (const name of names) {
      const cpu = median(results[query][name].map((m) => m.cpuMicros));
      const wall = median(results[query][name].map((m) => m.wallMs));
      const { spans, total } = perOp[`${name}|${query}`];
      console.log(`| ${query === 'small' ? 'small (1 user, its posts)' : '10,000-item list'} | ${name} | ${cpu.toFixed(query === 'small' ? 1 : 0)} | ${(cpu / base).toFixed(2)} | ${wall.toFixed(2)} | ${(spans / total).toFixed(1)} |`);
    }
  }
  console.log(`\n(${smallOps} small or ${largeOps} large operations per round and variant; spans/op counted over every operation a child ran, warm-up included)`);
}
