// Log records beside their spans, end to end: an app under the agent with pino and
// TRACING_LOGS_EXPORTER=otlp sends its spans and records to the real viewer; the page shows the
// server span's records in its detail panel and the trace's records in time order, as text.
import * as path from 'node:path';
import t from 'tap';
import { REGISTER, ROOT, runNode } from '../../helpers/run-node.js';
import { startViewer, type Viewer } from '../../../src/viewer/viewer.js';
import { getJson } from '../viewer/viewer-client.js';
import { openBrowser, type Browser } from './browser.js';

const XSS = '<img src=x onerror=alert(1)>';
const APP = path.join(ROOT, 'test', 'integration', 'logs', 'fixtures', 'pino10', 'viewer-app.cjs');

let viewer: Viewer;
let browser: Browser;
t.before(async () => {
  viewer = await startViewer({ port: 0, otlpPort: 0, otlpGrpcPort: null, warn: () => {} });
  browser = await openBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await viewer?.close();
});

t.test("a request's log records show in its server span's panel and under the trace, in time order, escaped", async (t) => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    const run = await runNode(['--preserve-symlinks', '--preserve-symlinks-main', '--import', REGISTER, APP], {
      env: { TRACING_ENDPOINT: viewer.otlpUrl, TRACING_SERVICE_NAME: `logs-shop-${protocol.slice(5)}`, TRACING_LOGS_EXPORTER: 'otlp', TRACING_EXPORTER_PROTOCOL: protocol },
      timeoutMs: 30_000,
    });
    t.equal(run.code, 0, `the app ran (${protocol})`);
    t.equal(run.stderr, '', 'the viewer accepted every batch');
  }

  const list = await getJson(`${viewer.webUrl}/api/traces?service=logs-shop-protobuf`);
  t.equal(list.traces.length, 1, 'one trace');
  const trace = await getJson(`${viewer.webUrl}/api/traces/${list.traces[0].traceId}`);
  const server = trace.spans.find((s: any) => s.kind === 'server');
  t.ok(server, 'the server span arrived');
  t.same(trace.logs.map((l: any) => [l.body, l.severityText, l.spanId]), [['order <b>placed</b>', 'info', server.spanId], [XSS, 'warn', server.spanId]],
    'the two records of the request, in time order, with their span; the one outside the trace is not there');
  const jsonTrace = await getJson(`${viewer.webUrl}/api/traces/${(await getJson(`${viewer.webUrl}/api/traces?service=logs-shop-json`)).traces[0].traceId}`);
  t.same(jsonTrace.logs.map((l: any) => l.body), ['order <b>placed</b>', XSS], 'OTLP/JSON records arrive the same way');

  const { page, dialogs, pageErrors } = browser;
  await page.goto(`${viewer.webUrl}/trace/${trace.traceId}`);
  const row = page.locator(`.span-row[data-span-id="${server.spanId}"]`);
  await row.waitFor();
  await row.click();
  const panelRecords = page.locator('aside.detail .detail-logs .log-record');
  await panelRecords.nth(1).waitFor();
  t.equal(await panelRecords.count(), 2, "the server span's panel lists its two records");
  t.same(await panelRecords.locator('.log-body').allTextContents(), ['order <b>placed</b>', XSS], 'bodies as text, in time order');
  t.match(await panelRecords.nth(0).textContent(), 'order=42', 'fields shown with the record');
  t.equal(await page.locator('aside.detail .detail-logs img, aside.detail .detail-logs b').count(), 0, 'no markup from a log line became an element');
  t.same(await page.locator('.trace-log-list .log-record .log-body').allTextContents(), ['order <b>placed</b>', XSS], "the trace's records under the waterfall, in time order");

  const root = trace.spans.find((s: any) => s.parentSpanId === '');
  await page.locator(`.span-row[data-span-id="${root.spanId}"]`).click();
  await page.locator('aside.detail .detail-logs').waitFor();
  t.equal(await page.locator('aside.detail .detail-logs .log-record').count(), 0, 'the client span has no records of its own');
  t.same(dialogs, [], 'no dialog opened');
  t.same(pageErrors, [], 'no page errors');
});
