// The viewer end to end in a real browser: the real server (startViewer), the demo's two services
// under the agent exporting to it, and the page showing the trace live, its waterfall and details.
// With UPDATE_SCREENSHOTS=1 it also writes docs/viewer-waterfall.png (the README's screenshot).
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNode } from '../../helpers/run-node.js';
import { startViewer, type Viewer } from '../../../src/viewer/viewer.js';
import { openBrowser, type Browser } from './browser.js';

const XSS = '<img src=x onerror=alert(1)>';

let viewer: Viewer;
let browser: Browser;
t.before(async () => {
  viewer = await startViewer({ port: 0, otlpPort: 0, warn: () => {} });
  browser = await openBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await viewer?.close();
});

/** Rows of the waterfall in view, as [name, depth, service, missing parent]. */
function rowsInView(browser: Browser) {
  return browser.page.locator('.span-row:not([hidden])').evaluateAll((els) =>
    els.map((e) => [e.querySelector('.span-name')!.textContent, Number(e.getAttribute('data-depth')), e.getAttribute('data-service'), e.classList.contains('orphan')] as const));
}

let demoTraceId = '';

t.test('the demo trace appears live, and its waterfall and details are right', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/`);
  await page.locator('.list-summary', { hasText: 'No traces yet' }).waitFor();
  // A marker that a reload would wipe: the row must arrive through the live stream.
  await page.evaluate('window.__sameDocument = true');

  const demo = await runNode([path.join(ROOT, 'examples', 'demo.mjs')], { env: { TRACING_ENDPOINT: viewer.otlpUrl }, timeoutMs: 30_000 });
  t.equal(demo.code, 0, 'the demo ran');
  t.match(demo.stdout, `Sending the spans to ${viewer.otlpUrl} too`, 'the demo found the viewer');
  t.notMatch(demo.stderr, /warn/i, 'no export warnings');

  const row = page.locator('tr.trace-row').filter({ has: page.locator('[data-service="orders-frontend"]') }).first();
  await row.waitFor({ timeout: 15_000 });
  t.equal(await page.evaluate('window.__sameDocument'), true, 'the trace appeared without a reload');
  demoTraceId = (await row.getAttribute('data-trace-id'))!;
  // Both services' spans reach the list (they arrive in separate requests; the row updates live).
  await page.locator(`tr[data-trace-id="${demoTraceId}"] td.num`, { hasText: /^5$/ }).waitFor({ timeout: 15_000 });
  t.match(await row.textContent(), 'stock-backend', 'the services column lists both services');

  await row.click();
  await page.waitForURL(`**/trace/${demoTraceId}`);
  await page.locator('.span-row:not([hidden])').nth(4).waitFor();
  const rows = await rowsInView(browser);
  t.same(rows.map(([, depth, service]) => [depth, service]), [
    [0, 'orders-frontend'], // server span of GET /orders/42
    [1, 'orders-frontend'], // fetch to the backend
    [2, 'stock-backend'],
    [1, 'orders-frontend'], // http.get to the backend
    [2, 'stock-backend'],
  ], 'one row per span, nested by parent across both services');
  t.ok(rows.every(([name]) => name === 'GET'), 'span names as the agent sets them');
  t.match(await page.locator('.legend').textContent(), /orders-frontend.*stock-backend/);

  await page.locator('.span-row:not([hidden])').nth(1).click();
  const tags = await page.locator('.detail-tags').textContent();
  t.match(tags, 'componentfetch', 'the clicked span is the fetch client span');
  t.match(tags, /http\.urlhttp:\/\/127\.0\.0\.1:\d+\/stock\/42/);
  t.match(await page.locator('.detail-resource').textContent(), 'service.nameorders-frontend');
  t.match(await page.locator('.detail-ids').textContent(), demoTraceId);

  if (process.env['UPDATE_SCREENSHOTS'] === '1') {
    await page.setViewportSize({ width: 1280, height: 520 });
    await page.screenshot({ path: path.join(ROOT, 'docs', 'viewer-waterfall.png') });
    await page.setViewportSize({ width: 1400, height: 800 });
  }

  await page.locator('.span-row:not([hidden])').nth(1).locator('.toggle').click();
  t.same((await rowsInView(browser)).map(([, depth]) => depth), [0, 1, 1, 2], 'collapsing the fetch span hides the backend span under it');
});

t.test('copy and download give the trace as OTLP JSON, and opening that file shows it again', async (t) => {
  const { page, context } = browser;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: viewer.webUrl });
  await page.goto(`${viewer.webUrl}/trace/${demoTraceId}`);
  await page.click('button[data-action=copy-otlp]');
  await page.locator('button[data-action=copy-otlp]', { hasText: 'Copied' }).waitFor();
  const copied = JSON.parse(String(await page.evaluate('navigator.clipboard.readText()'))) as { resourceSpans: unknown[] };
  t.equal(copied.resourceSpans.length, 2, 'OTLP JSON with one resource per service');

  const download = page.waitForEvent('download');
  await page.click('a[data-action=download-otlp]');
  const saved = await (await download).path();
  await page.goto(`${viewer.webUrl}/`);
  await page.setInputFiles('#open-file', saved);
  await page.locator('.file-note').waitFor();
  t.same((await rowsInView(browser)).map(([, depth, service]) => [depth, service]),
    [[0, 'orders-frontend'], [1, 'orders-frontend'], [2, 'stock-backend'], [1, 'orders-frontend'], [2, 'stock-backend']],
    'the downloaded file opens as the same waterfall');
});

t.test('from any OTLP sender: a hostile span name is text, a span without its parent is shown', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/`);
  const traceId = 'f'.repeat(31) + '1';
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: '<script>alert(2)</script>' } }] },
      scopeSpans: [{
        scope: { name: 'other-sdk' },
        spans: [
          { traceId, spanId: '00000000000000a1', name: XSS, kind: 2, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 9_000_000n),
            attributes: [{ key: 'note', value: { stringValue: '"><svg onload=alert(3)>' } }] },
          { traceId, spanId: '00000000000000a2', parentSpanId: '00000000000000ff', name: 'orphaned', kind: 1,
            startTimeUnixNano: String(now + 1_000_000n), endTimeUnixNano: String(now + 2_000_000n) },
        ],
      }],
    }],
  };
  const posted = await fetch(viewer.otlpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal(posted.status, 200);
  const link = page.locator(`tr[data-trace-id="${traceId}"] a.root-name`);
  await link.waitFor({ timeout: 10_000 });
  t.equal(await link.textContent(), XSS, 'the list shows the name as text');
  await link.click();
  await page.locator('.span-row:not([hidden])').nth(1).waitFor();
  t.same(await rowsInView(browser), [
    [XSS, 0, '<script>alert(2)</script>', false],
    ['orphaned', 0, '<script>alert(2)</script>', true],
  ], 'the orphan is a row of its own, marked');
  await page.locator('.span-row:not([hidden])').first().click();
  t.match(await page.locator('.detail-tags').textContent(), '"><svg onload=alert(3)>');
  t.equal(await page.locator('main img, main svg, main script').count(), 0, 'no element was made from span data');
  t.same(browser.dialogs, [], 'no dialog fired');
  t.same(browser.pageErrors, [], 'no errors on the page');
});

t.test('a trace that arrives after the list loaded but before the live stream connected is shown when it connects', async (t) => {
  const { page } = browser;
  // The page's event stream is held back, so the trace below arrives in the gap a loaded machine can open
  // between the list's first load and the stream's connect (the server sends only changes made while a
  // stream is attached).
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/events', async (route) => {
    await held;
    await route.continue();
  });
  t.teardown(() => page.unroute('**/api/events'));
  await page.goto(`${viewer.webUrl}/`, { waitUntil: 'domcontentloaded' });
  await page.locator('.list-summary', { hasText: /trace/ }).waitFor();

  const traceId = 'e'.repeat(31) + '2';
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'late-stream' } }] },
      scopeSpans: [{ scope: { name: 'other-sdk' }, spans: [{ traceId, spanId: '00000000000000b1', name: 'arrived early', kind: 2, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n) }] }],
    }],
  };
  const posted = await fetch(viewer.otlpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal(posted.status, 200);
  // Past the server's coalescing interval (250 ms): its change event has gone out to no stream of this page.
  await new Promise((resolve) => setTimeout(resolve, 700));
  const row = page.locator(`tr[data-trace-id="${traceId}"]`);
  t.equal(await row.count(), 0, 'not in the list the page loaded before the trace arrived');

  release();
  await row.waitFor({ timeout: 10_000 });
  t.match(await row.textContent(), 'arrived early', 'the list loaded again when the stream connected');
});
