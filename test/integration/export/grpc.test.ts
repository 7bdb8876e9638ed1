import t from 'tap';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Tracer, Tags } from '../../../src/index.js';
import { BatchSpanProcessor } from '../../../src/export/batch-processor.js';
import { OtlpGrpcSpanExporter } from '../../../src/export/otlp-grpc.js';
import { OtlpSpanExporter } from '../../../src/export/otlp.js';
import { MultiSpanProcessor } from '../../../src/export/span-processor.js';
import { Collector } from '../../helpers/collector.js';
import { GrpcCollector } from '../../helpers/grpc-collector.js';
import { REGISTER, runNode } from '../../helpers/run-node.js';

const fast = { initialBackoffMs: 10, maxBackoffMs: 100, maxAttempts: 3 };
const resource = { 'service.name': 'grpc-export', 'service.version': '1.2.3' };

/** A freed loopback port: connections to it are refused. */
async function refusedUrl(): Promise<string> {
  const probe = await GrpcCollector.start();
  const url = probe.url;
  await probe.close();
  return url;
}

function makeSpans(tracer: Tracer): void {
  const root = tracer.startSpan('GET /checkout', { tags: { [Tags.SPAN_KIND]: 'server', 'http.status_code': 200, 'http.route': '/checkout', ratio: 0.25, cached: false } });
  const child = tracer.startSpan('SELECT orders', { childOf: root, tags: { [Tags.SPAN_KIND]: 'client', 'db.system': 'postgresql' } });
  child.log({ event: 'rows', count: 3 });
  child.setTag(Tags.ERROR, true);
  child.log({ event: 'error', message: 'timeout', 'error.kind': 'Error' });
  child.finish();
  tracer.startSpan('ünïcode ✓ span', { childOf: root, tags: { note: 'é'.repeat(300) } }).finish();
  root.finish();
}

t.test('spans arrive exactly as over OTLP/HTTP protobuf, decoded by the official definitions', async (t) => {
  const grpcCollector = await GrpcCollector.start();
  const httpCollector = await Collector.start();
  t.teardown(() => Promise.all([grpcCollector.close(), httpCollector.close()]));
  const grpcExporter = new OtlpGrpcSpanExporter({ url: grpcCollector.url, resource });
  const processor = new MultiSpanProcessor([
    new BatchSpanProcessor(grpcExporter, { scheduledDelayMs: 10 }),
    new BatchSpanProcessor(new OtlpSpanExporter({ url: httpCollector.otlpUrl, resource }), { scheduledDelayMs: 10 }),
  ]);
  const tracer = new Tracer({ processor, resource });
  makeSpans(tracer);
  await tracer.close();
  t.equal(grpcCollector.spans.length, 3);
  t.equal(grpcCollector.calls.length, 1, 'one Export call for the batch');
  const strip = (s: object): object => ({ ...s, protocol: undefined });
  const byId = (a: { spanId: string }, b: { spanId: string }): number => a.spanId.localeCompare(b.spanId);
  t.same([...grpcCollector.spans].sort(byId).map(strip), [...httpCollector.spans].sort(byId).map(strip), 'field for field the same spans');
  const root = grpcCollector.spans.find((s) => s.name === 'GET /checkout')!;
  const db = grpcCollector.spans.find((s) => s.name === 'SELECT orders')!;
  t.equal(root.kind, 2);
  t.equal(root.parentSpanId, '');
  t.equal(db.parentSpanId, root.spanId);
  t.equal(db.traceId, root.traceId);
  t.equal(db.status.code, 2);
  t.match(root.attributes, { 'http.status_code': 200, 'http.route': '/checkout', ratio: 0.25, cached: false });
  t.same(root.resource['service.name'], 'grpc-export');
  t.same(db.events.map((e) => e.name), ['rows', 'exception'], 'an error log becomes an exception event');
  t.match(grpcExporter.stats(), { exportedSpans: 3, droppedSpans: 0, requests: 1 });
});

t.test('headers arrive as metadata, the deadline as grpc-timeout, gzip is understood', async (t) => {
  const collector = await GrpcCollector.start();
  t.teardown(() => collector.close());
  const exporter = new OtlpGrpcSpanExporter({ url: collector.url, resource, headers: { authorization: 'Bearer s3cret', 'x-tenant': 'acme', connection: 'keep-alive' }, compression: 'gzip', timeoutMs: 4000 });
  const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
  for (let i = 0; i < 50; i++) tracer.startSpan(`compressible span ${i}`, { tags: { payload: 'x'.repeat(200) } }).finish();
  await tracer.close();
  t.equal(collector.spans.length, 50);
  const call = collector.calls[0]!;
  t.equal(call.metadata.authorization, 'Bearer s3cret');
  t.equal(call.metadata['x-tenant'], 'acme');
  t.ok(call.deadlineMs > 3000 && call.deadlineMs <= 4000, `deadline ${call.deadlineMs} ms from the grpc-timeout of 4000 ms`);
});

t.test('UNAVAILABLE is retried with backoff; the batch arrives once', async (t) => {
  const collector = await GrpcCollector.start({ fault: { code: 14, message: 'warming up', times: 2 } });
  t.teardown(() => collector.close());
  const exporter = new OtlpGrpcSpanExporter({ ...fast, url: collector.url, resource });
  const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
  for (let i = 0; i < 4; i++) tracer.startSpan(`s${i}`).finish();
  await tracer.close();
  t.same(collector.calls.map((c) => c.code), [14, 14, 0]);
  t.equal(collector.spans.length, 4);
  t.match(exporter.stats(), { exportedSpans: 4, droppedSpans: 0, requests: 3 });
});

for (const [code, name] of [[3, 'INVALID_ARGUMENT'], [16, 'UNAUTHENTICATED'], [8, 'RESOURCE_EXHAUSTED without RetryInfo']] as const) {
  t.test(`${name} is final: no retry, the spans are counted as dropped`, async (t) => {
    const collector = await GrpcCollector.start({ fault: { code, message: 'no' } });
    t.teardown(() => collector.close());
    const exporter = new OtlpGrpcSpanExporter({ ...fast, url: collector.url, resource });
    const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
    for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`).finish();
    await tracer.close();
    t.equal(collector.calls.length, 1);
    t.match(exporter.stats(), { exportedSpans: 0, droppedSpans: 3, requests: 1 });
  });
}

t.test('RESOURCE_EXHAUSTED with RetryInfo is retried after the delay the collector asked for', async (t) => {
  const collector = await GrpcCollector.start({ fault: { code: 8, message: 'slow down', retryDelayMs: 300, times: 1 } });
  t.teardown(() => collector.close());
  const exporter = new OtlpGrpcSpanExporter({ ...fast, maxBackoffMs: 5000, url: collector.url, resource });
  const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
  tracer.startSpan('throttled').finish();
  const started = Date.now();
  await tracer.close();
  const waited = Date.now() - started;
  t.same(collector.calls.map((c) => c.code), [8, 0]);
  t.equal(collector.spans.length, 1);
  t.ok(waited >= 280, `waited ${waited} ms (RetryInfo said 300 ms; our own backoff is 10 ms)`);
});

t.test('a partial success counts the rejected spans as dropped and the rest as exported, without retrying', async (t) => {
  const collector = await GrpcCollector.start({ fault: { rejectSpans: { count: 2, message: 'span too old' } } });
  t.teardown(() => collector.close());
  const exporter = new OtlpGrpcSpanExporter({ ...fast, url: collector.url, resource });
  const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
  for (let i = 0; i < 5; i++) tracer.startSpan(`s${i}`).finish();
  await tracer.close();
  t.equal(collector.calls.length, 1);
  t.match(exporter.stats(), { exportedSpans: 3, droppedSpans: 2, requests: 1 });
});

t.test('a collector that hangs: each try ends at the deadline (DEADLINE_EXCEEDED, retried), the app is never blocked', async (t) => {
  const collector = await GrpcCollector.start({ fault: { hang: true } });
  t.teardown(() => collector.close());
  const exporter = new OtlpGrpcSpanExporter({ ...fast, maxAttempts: 2, timeoutMs: 200, url: collector.url, resource });
  const maxQueueSize = 20;
  const processor = new BatchSpanProcessor(exporter, { maxQueueSize, maxExportBatchSize: 5, scheduledDelayMs: 0 });
  const tracer = new Tracer({ processor, resource });
  const started = Date.now();
  let maxPending = 0;
  for (let i = 0; i < 500; i++) {
    tracer.startSpan(`s${i}`).finish();
    maxPending = Math.max(maxPending, processor.pendingCount());
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  const appMs = Date.now() - started;
  t.ok(maxPending <= maxQueueSize + 5, `at most queue + one batch held (max ${maxPending})`);
  t.ok(processor.droppedSpans >= 500 - maxQueueSize - 5, `the rest dropped and counted (${processor.droppedSpans})`);
  t.ok(appMs < 2000, `500 spans finished in ${appMs} ms while the collector hangs`);
  await collector.waitForCalls(2, 3000);
  const flushStarted = Date.now();
  await processor.shutdown();
  const flushMs = Date.now() - flushStarted;
  // Each queued batch costs at most 2 tries x 200 ms; what matters is that it ends.
  t.ok(flushMs < 20_000, `shutdown ended in ${flushMs} ms`);
  t.ok(exporter.stats().droppedSpans > 0);
});

t.test('a collector that is down: bounded tries, the spans are dropped and counted', async (t) => {
  // The exporter's connection and timers are unref'd (they never hold a process up): this test holds it.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const exporter = new OtlpGrpcSpanExporter({ ...fast, url: await refusedUrl(), resource });
  const tracer = new Tracer({ processor: new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 }), resource });
  for (let i = 0; i < 3; i++) tracer.startSpan(`s${i}`).finish();
  await tracer.close();
  t.match(exporter.stats(), { exportedSpans: 0, droppedSpans: 3, requests: 3 });
});

t.test('a collector that comes back: the next batch opens a fresh connection', async (t) => {
  const first = await GrpcCollector.start();
  const port = first.port;
  const exporter = new OtlpGrpcSpanExporter({ ...fast, url: first.url, resource });
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 });
  const tracer = new Tracer({ processor, resource });
  tracer.startSpan('before').finish();
  await tracer.flush();
  await first.close();
  const second = await GrpcCollector.start({ port });
  t.teardown(() => second.close());
  tracer.startSpan('after').finish();
  await tracer.close();
  t.same(first.spans.map((s) => s.name), ['before']);
  t.same(second.spans.map((s) => s.name), ['after']);
});

// The zero-code way: configuration from the environment, the agent under --import.
const APP = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/hello' }, (res) => {
    res.resume().on('end', () => { server.close(); process.stdout.write(JSON.stringify({ http2: process.moduleLoadList.some((m) => m.includes('http2')) })); });
  });
});
`;

t.test('OTEL_EXPORTER_OTLP_PROTOCOL=grpc and OTEL_EXPORTER_OTLP_ENDPOINT (used as is) deliver an app\'s spans; no warning', async (t) => {
  const collector = await GrpcCollector.start();
  t.teardown(() => collector.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-export-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, 'app.cjs');
  fs.writeFileSync(app, APP);
  const r = await runNode(['--import', REGISTER, app], { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'env-app', TRACING_EXPORTER_HEADERS: 'x-api-key=k3y' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'no warning');
  const spans = await collector.waitForSpans(2);
  t.same(spans.map((s) => s.kind).sort(), [2, 3]);
  t.ok(spans.every((s) => s.resource['service.name'] === 'env-app'));
  t.equal(collector.calls[0]!.metadata['x-api-key'], 'k3y');
  t.same(JSON.parse(r.stdout), { http2: true });
});

t.test('with the default protocol node:http2 is never loaded', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-export-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, 'app.cjs');
  fs.writeFileSync(app, APP);
  const r = await runNode(['--import', REGISTER, app], { env: { TRACING_ENDPOINT: collector.otlpUrl } });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { http2: false });
  await collector.waitForSpans(2);
});

for (const mode of ['refused', 'hanging'] as const) {
  t.test(`an app whose gRPC collector is ${mode} exits by itself: the export never holds the process`, async (t) => {
    const hanging = mode === 'hanging' ? await GrpcCollector.start({ fault: { hang: true } }) : null;
    t.teardown(() => hanging?.close());
    const url = hanging?.url ?? (await refusedUrl());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-export-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const app = path.join(dir, 'app.cjs');
    fs.writeFileSync(app, APP);
    let started = Date.now();
    const without = await runNode([app], { timeoutMs: 30_000 });
    const withoutMs = Date.now() - started;
    started = Date.now();
    // A one-minute export deadline: were the exit waiting on the export, the child would be killed at 30 s.
    const r = await runNode(['--import', REGISTER, app], { timeoutMs: 30_000, env: { TRACING_EXPORTER_PROTOCOL: 'grpc', TRACING_ENDPOINT: url, TRACING_EXPORTER_TIMEOUT_MS: '60000' } });
    const ms = Date.now() - started;
    t.equal(without.code, 0);
    t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null }, r.stderr);
    t.ok(r.stdout.startsWith('{'), 'the app ran to its end');
    t.comment(`${mode}: exit after ${ms} ms with the agent, ${withoutMs} ms without (the exit flush deadline bounds the difference)`);
  });
}
