// The instrumentation's own JavaScript per message, without a broker: amqplib 2's real channel classes
// over a connection whose socket writes are no-ops, one publish (inside an active sampled span) and one
// delivery + ack per iteration, amqplib patched and unpatched in alternating rounds in one process.
// The spans go to a processor that only counts them (export cost is measured by amqplib.mjs).
// Run: npm run build && node benchmarks/messaging/amqplib-micro.mjs [rounds=6] [iterations=50000]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Tracer } = require('../../dist/src/index.js');
const { InstrumentationRun, buildAgentSettings } = require('../../dist/src/agent/kit.js');
const { defaultConfig } = require('../../dist/src/config/load.js');
const { instrumentations } = require('../../dist/instrumentations/index.js');
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
// By path: amqplib 2's `exports` map hides its lib/ files from require.
const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', 'amqplib2', 'lib');
const channelModule = require(path.join(LIB, 'channel.js'));
const model = require(path.join(LIB, 'channel_model.js'));
const defs = require(path.join(LIB, 'defs.js'));

const [rounds = 6, iterations = 50000] = process.argv.slice(2, 4).map(Number);
let finished = 0;
const tracer = new Tracer({ processor: { onEnd() { finished++; }, forceFlush: async () => {}, shutdown: async () => {} } });
// The instrumentation run as the loader runs it: same context builder, same undo.
const declared = instrumentations.find((d) => d.name === 'amqplib');
const run = new InstrumentationRun('amqplib', declared.load(), { tracer, settings: buildAgentSettings(defaultConfig()) });
const version = require(path.join(LIB, '..', 'package.json')).version;
const target = (file) => declared.modules.find((m) => m.file === file);
const on = () => {
  run.code.patch(channelModule, run.context(version), target('lib/channel.js'));
  run.code.patch(model, run.context(version), target('lib/channel_model.js'));
};
const off = () => run.undo();

// A connection that accepts everything and sends nothing.
const connection = { sendMessage() { return true; }, sendMethod() { return true; }, freshChannel() { return 1; }, on() {} };
const body = Buffer.alloc(256, 120);
const options = { messageId: 'm', headers: { 'x-app': 'bench' } };
const parent = tracer.startSpan('request');

function setup() {
  const channel = new model.Channel(connection);
  channel.ch = 1;
  const consumed = [];
  channel.consume('q', (m) => { consumed.push(m); channel.ack(m); });
  channel.accept({ id: defs.BasicConsumeOk, fields: { consumerTag: 'c1' } });
  return channel;
}

function measure() {
  const channel = setup();
  // Headers as a traced publisher sends them: what the consumer side extracts.
  const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-app': 'bench' };
  const t0 = process.hrtime.bigint();
  tracer.scopeManager.run(parent, () => {
    for (let i = 1; i <= iterations; i++) {
      channel.sendToQueue('q', body, options);
      channel.handleDelivery({ fields: { consumerTag: 'c1', deliveryTag: i, redelivered: false, exchange: '', routingKey: 'q' }, properties: { headers, messageId: 'm' }, content: body });
    }
  });
  return Number(process.hrtime.bigint() - t0) / iterations;
}

const results = { off: [], on: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
    if (mode === 'on') on();
    const before = finished;
    results[mode].push(measure());
    if (mode === 'on' && finished - before !== 2 * iterations) throw new Error(`expected ${2 * iterations} spans, got ${finished - before}`);
    if (mode === 'on') off();
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`amqplib 2 in-process publish + delivery + ack, ${iterations} per round, ${rounds} rounds, median ns per message (node ${process.version}):`);
console.log(`  unpatched: ${median(results.off).toFixed(0)} ns`);
console.log(`  patched  : ${median(results.on).toFixed(0)} ns (two spans: producer with headers injected, consumer ended at the ack)`);
console.log(`  added    : ${((median(results.on) - median(results.off)) / 1000).toFixed(2)} µs per message`);
