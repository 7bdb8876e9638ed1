import t from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tracer, Tags } from '../../../src/index.js';
import { BatchSpanProcessor } from '../../../src/export/batch-processor.js';
import { OtlpSpanExporter } from '../../../src/export/otlp.js';
import { createSpanProcessor } from '../../../src/export/pipeline.js';
import { defaultConfig } from '../../../src/config/load.js';
import { Collector } from '../../helpers/collector.js';

const fastRetries = { initialBackoffMs: 10, maxBackoffMs: 100, maxAttempts: 3 };

t.test('a receiver that is down at start and comes up later gets the spans after retries', async (t) => {
  const probe = await Collector.start();
  const port = probe.port;
  const url = probe.otlpUrl;
  await probe.close();
  const cfg = defaultConfig().export;
  cfg.endpoint = url;
  cfg.batch.scheduledDelayMs = 10;
  const tracer = new Tracer({ processor: createSpanProcessor(cfg, { 'service.name': 'late' }) });
  for (let i = 0; i < 3; i++) tracer.startSpan(`early ${i}`).finish();
  await new Promise((r) => setTimeout(r, 150));
  const collector = await Collector.start({ port });
  t.teardown(() => collector.close());
  const spans = await collector.waitForSpans(3, 8000);
  t.same(spans.map((s) => s.name).sort(), ['early 0', 'early 1', 'early 2']);
  await tracer.close();
  t.equal(collector.spans.length, 3, 'exactly once');
});

for (const fault of [{ status: 500 }, { status: 429, retryAfter: '0' }]) {
  t.test(`a receiver answering ${fault.status}: bounded retries, then the spans are counted as dropped`, async (t) => {
    const collector = await Collector.start({ fault });
    t.teardown(() => collector.close());
    const exporter = new OtlpSpanExporter({ ...fastRetries, url: collector.otlpUrl });
    const processor = new BatchSpanProcessor(exporter, { scheduledDelayMs: 10 });
    const tracer = new Tracer({ processor });
    for (let i = 0; i < 6; i++) tracer.startSpan(`s${i}`).finish();
    await tracer.flush();
    t.equal(collector.requests.length, 3, 'three tries, no more');
    t.match(exporter.stats(), { droppedSpans: 6, exportedSpans: 0, requests: 3 });
    t.equal(collector.spans.length, 0);
    collector.fault(null);
    tracer.startSpan('after recovery').finish();
    await tracer.close();
    t.same(collector.spans.map((s) => s.name), ['after recovery'], 'the next batch goes through');
  });
}

t.test('a receiver that never answers: the app keeps serving at once, and memory stays bounded', async (t) => {
  const collector = await Collector.start({ fault: { hang: true } });
  t.teardown(() => collector.close());
  const maxQueueSize = 50;
  const exporter = new OtlpSpanExporter({ url: collector.otlpUrl, timeoutMs: 60_000, maxAttempts: 1 });
  const processor = new BatchSpanProcessor(exporter, { maxQueueSize, maxExportBatchSize: 10, scheduledDelayMs: 0 });
  const tracer = new Tracer({ processor });
  let maxPending = 0;
  const app = http.createServer((req, res) => {
    const span = tracer.startSpan('GET /', { tags: { [Tags.SPAN_KIND]: 'server' } });
    for (let i = 0; i < 4; i++) tracer.startSpan('work', { childOf: span }).finish();
    res.end('ok');
    span.finish();
    maxPending = Math.max(maxPending, processor.pendingCount());
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  t.teardown(() => app.close());
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const port = (app.address() as AddressInfo).port;
  const started = Date.now();
  const requests = 200;
  for (let i = 0; i < requests; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  }
  const elapsed = Date.now() - started;
  // The export has been hanging the whole time (its timeout is a minute): the app never waited on it.
  t.ok(elapsed < 60_000, `${requests} requests served in ${elapsed} ms while the export hangs`);
  t.equal(collector.requests.length, 1, 'one export in flight, stuck');
  t.ok(maxPending <= maxQueueSize + 10, `at most queue + one batch held (max ${maxPending})`);
  t.equal(processor.droppedSpans, requests * 5 - maxPending, 'the rest were dropped and counted');
  t.comment(`mean request time with a hanging exporter: ${(elapsed / requests).toFixed(2)} ms`);
});
