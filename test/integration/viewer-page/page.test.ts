// The page's own behaviour in a real browser, against a stand-in server holding hand-made spans:
// escaping, missing parents, collapse, virtualised rows, opening a saved OTLP JSON file.
import t from 'tap';
import { openBrowser, type Browser } from './browser.js';
import { startFakeViewer, type FakeViewer } from './fake-viewer.js';
import { viewSpan } from './spans.js';
import type { ViewSpan } from '../../../src/viewer/model.js';

const XSS = '<img src=x onerror=alert(1)>';
const T0 = 1_700_000_000_000;

// Trace 1: escaping and details. Trace 2: a span whose parent never arrived, with a child.
const xssTrace = 'a'.repeat(32);
const xssRoot = viewSpan(xssTrace, XSS, {
  service: '<b>svc</b>', kind: 'server', startMs: T0, durationMs: 50, error: true, statusMessage: '<script>alert(2)</script>',
  attributes: [{ key: 'http.url', value: '"><svg onload=alert(3)>' }, { key: 'count', value: 3 }],
  events: [{ timeMs: T0 + 5, name: '<i>log</i>', attributes: [{ key: 'message', value: '<b>hi</b>' }] }],
});
const orphanTrace = 'b'.repeat(32);
const orphanRoot = viewSpan(orphanTrace, 'GET /orders', { service: 'frontend', startMs: T0 + 1000, durationMs: 100 });
const orphanChild = viewSpan(orphanTrace, 'SELECT orders', { service: 'db', parent: orphanRoot, startMs: T0 + 1010, durationMs: 20 });
const orphan = viewSpan(orphanTrace, 'late work', { service: 'worker', parent: 'deadbeefdeadbeef', startMs: T0 + 1030, durationMs: 30 });
const orphanKid = viewSpan(orphanTrace, 'late child', { service: 'worker', parent: orphan, startMs: T0 + 1040, durationMs: 5 });
orphanKid.links = [
  { traceId: xssTrace, spanId: xssRoot.spanId, attributes: [{ key: 'why', value: 'follows from' }] },
  { traceId: 'd'.repeat(32), spanId: '00000000000000dd', attributes: [] },
];

// Trace 3: 3,000 spans, a chain 1,000 deep plus wide fan-out: rows must be virtualised.
const bigTrace = 'c'.repeat(32);
const big: ViewSpan[] = [viewSpan(bigTrace, 'big root', { service: 'big', startMs: T0 + 2000, durationMs: 3000 })];
for (let i = 1; i < 3000; i++) {
  const parent = i < 1000 ? big[i - 1]! : big[i % 50]!;
  big.push(viewSpan(bigTrace, `op ${i}`, { service: `svc-${i % 4}`, parent, startMs: T0 + 2000 + i / 2, durationMs: 1 }));
}

let viewer: FakeViewer;
let browser: Browser;
t.before(async () => {
  viewer = await startFakeViewer([xssRoot, orphanRoot, orphanChild, orphan, orphanKid, ...big]);
  browser = await openBrowser();
});
t.teardown(async () => {
  await browser?.close();
  await viewer?.close();
});

t.test('span values render as text: no markup, no dialog', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/`);
  const link = page.locator(`tr[data-trace-id="${xssTrace}"] a.root-name`);
  t.equal(await link.textContent(), XSS, 'the list shows the name as typed');
  await link.click();
  await page.waitForURL(`**/trace/${xssTrace}`);
  const row = page.locator('.span-row:not([hidden])').first();
  t.equal(await row.locator('.span-name').textContent(), XSS);
  await row.click();
  const detail = page.locator('aside.detail');
  t.equal(await detail.locator('h2').textContent(), XSS);
  t.match(await detail.textContent(), '<script>alert(2)</script>', 'status message as text');
  t.match(await detail.locator('.detail-tags').textContent(), '"><svg onload=alert(3)>', 'tag value as text');
  t.match(await detail.textContent(), '<i>log</i>', 'event name as text');
  t.equal(await page.locator('main img, main svg, main script, main b, main i').count(), 0, 'no element was made from span data');
  t.same(browser.dialogs, [], 'no dialog fired');
});

t.test('a span whose parent never arrived is shown, marked, with its subtree', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/trace/${orphanTrace}`);
  const rows = page.locator('.span-row:not([hidden])');
  await rows.nth(3).waitFor();
  const seen = await rows.evaluateAll((els) => els.map((e) => [e.querySelector('.span-name')!.textContent, e.getAttribute('data-depth'), e.classList.contains('orphan')]));
  t.same(seen, [['GET /orders', '0', false], ['SELECT orders', '1', false], ['late work', '0', true], ['late child', '1', false]]);
  t.equal(await rows.nth(2).locator('.badge.orphan').isVisible(), true, '"missing parent" shown on the row');
  t.match(await page.locator('.trace-head').textContent(), '1 missing parent');
});

t.test('details: links open known traces; ids copy to the clipboard', async (t) => {
  const { page, context } = browser;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: viewer.webUrl });
  await page.goto(`${viewer.webUrl}/trace/${orphanTrace}`);
  await page.locator('.span-row:not([hidden])', { hasText: 'late child' }).click();
  const links = page.locator('aside.detail .link');
  await links.first().locator('a').waitFor();
  t.equal(await links.first().locator('a').getAttribute('href'), `/trace/${xssTrace}`, 'a link to a trace the viewer holds is a link');
  t.match(await links.first().textContent(), 'whyfollows from', 'with its attributes');
  t.equal(await links.nth(1).locator('a').count(), 0, 'a link to an unknown trace stays text');
  await page.locator('td[data-id="span id"] button.copy').click();
  await page.locator('td[data-id="span id"] button.copy', { hasText: 'Copied' }).waitFor();
  t.equal(await page.evaluate('navigator.clipboard.readText()'), orphanKid.spanId, 'the span id was copied');
  await links.first().locator('a').click();
  await page.waitForURL(`**/trace/${xssTrace}`);
  t.equal(await page.locator('.span-row:not([hidden]) .span-name').first().textContent(), XSS, 'the link opened the linked trace');
});

t.test('collapse hides a subtree; expand all brings it back', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/trace/${orphanTrace}`);
  const rows = page.locator('.span-row:not([hidden])');
  await rows.nth(3).waitFor();
  await rows.first().locator('.toggle').click();
  const names = () => rows.evaluateAll((els) => els.map((e) => e.querySelector('.span-name')!.textContent));
  t.same(await names(), ['GET /orders', 'late work', 'late child']);
  t.equal(await rows.first().getAttribute('aria-expanded'), 'false');
  await page.locator('.rows').focus();
  await page.keyboard.press('ArrowDown'); // selects the first row
  await page.keyboard.press('ArrowRight'); // expands it again
  t.same(await names(), ['GET /orders', 'SELECT orders', 'late work', 'late child'], 'the keyboard expands the selected row');
  await page.keyboard.press('ArrowDown');
  t.equal(await page.locator('aside.detail h2').textContent(), 'SELECT orders', 'ArrowDown selects the next row and shows its details');
  await page.click('button[data-action=collapse-all]');
  t.same(await names(), ['GET /orders', 'late work']);
  await page.click('button[data-action=expand-all]');
  t.same(await names(), ['GET /orders', 'SELECT orders', 'late work', 'late child']);
});

t.test('a 3,000-span trace keeps only the rows in view in the DOM', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/trace/${bigTrace}`);
  const rows = page.locator('.span-row:not([hidden])');
  await rows.first().waitFor();
  const inDom = await page.locator('.span-row').count();
  t.ok(inDom > 10 && inDom < 100, `${inDom} row elements for 3,000 spans`);
  t.equal(await page.locator('.rows-spacer').evaluate((e) => e.getBoundingClientRect().height), 3000 * 24, 'scroll height covers every row');
  await page.locator('.rows').evaluate((scroller, y) => (scroller.scrollTop = y), 999 * 24);
  const deepest = rows.filter({ has: page.locator('.span-name', { hasText: /^op 999$/ }) });
  await deepest.waitFor();
  const depth999 = await deepest.getAttribute('data-depth');
  t.equal(depth999, '999', 'the end of the 1,000-deep chain is drawn at its depth after scrolling');
  const afterScroll = await page.locator('.span-row').count();
  t.ok(afterScroll < 100, `${afterScroll} row elements after scrolling 1,000 rows down (the pool is reused, overscan above and below)`);
});

t.test('opening a saved OTLP JSON file shows its trace without uploading it', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/`);
  const trace = '0123456789abcdef0123456789abcdef';
  const file = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'saved-svc' } }] },
      scopeSpans: [{
        scope: { name: 'saved-scope', version: '2.0' },
        spans: [
          { traceId: trace, spanId: '1111111111111111', name: 'saved root', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000050000000',
            attributes: [{ key: 'http.status_code', value: { intValue: '500' } }], status: { code: 2, message: 'boom' } },
          { traceId: trace, spanId: '2222222222222222', parentSpanId: '1111111111111111', name: 'saved child', kind: 'SPAN_KIND_CLIENT',
            startTimeUnixNano: '1700000000010000000', endTimeUnixNano: '1700000000020000000' },
        ],
      }],
    }],
  };
  let uploads = 0;
  page.on('request', (request) => {
    if (request.method() !== 'GET') uploads++;
  });
  await page.setInputFiles('#open-file', { name: 'saved.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  const rows = page.locator('.span-row:not([hidden])');
  await rows.nth(1).waitFor();
  t.same(await rows.evaluateAll((els) => els.map((e) => [e.querySelector('.span-name')!.textContent, e.getAttribute('data-depth'), e.getAttribute('data-service')])),
    [['saved root', '0', 'saved-svc'], ['saved child', '1', 'saved-svc']]);
  t.match(await page.locator('.file-note').textContent(), 'saved.json');
  await rows.first().click();
  t.match(await page.locator('.detail-tags').textContent(), 'http.status_code500');
  t.match(await page.locator('.detail-scope').textContent(), 'saved-scope');
  t.equal(await rows.first().locator('.badge.error').isVisible(), true, 'status code 2 marks the error');
  t.equal(uploads, 0, 'nothing was sent to the server');

  await page.setInputFiles('#open-file', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"nope": 1}') });
  t.match(await page.locator('main .problem').textContent(), 'no "resourceSpans"', 'a wrong file says what is wrong');
});

t.test('filters live in the address; Enter on a whole trace id opens it', async (t) => {
  const { page } = browser;
  await page.goto(`${viewer.webUrl}/?errors=1&service=frontend`);
  t.equal(await page.locator('input[name=errors]').isChecked(), true, 'errors only, from the address');
  t.equal(await page.locator('select[name=service]').inputValue(), 'frontend', 'service, from the address');
  await page.fill('input[name=minDurationMs]', '25');
  await page.waitForURL(/minDurationMs=25/);
  t.match(page.url(), /errors=1/, 'the other filters stay in the address');
  await page.fill('input[name=traceId]', orphanTrace);
  await page.press('input[name=traceId]', 'Enter');
  await page.waitForURL(`**/trace/${orphanTrace}`);
  await page.locator('.span-row:not([hidden])').first().waitFor();
  await page.goBack();
  await page.waitForURL(/minDurationMs=25/);
  t.equal(await page.locator('input[name=minDurationMs]').inputValue(), '25', 'Back restores the filtered list');
});

t.test('the page raised no errors', async (t) => {
  t.same(browser.pageErrors.filter((e) => !e.includes('/api/events')), []);
});
