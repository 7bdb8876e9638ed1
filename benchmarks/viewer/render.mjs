// How the viewer's page copes with a 50,000-span trace in headless Chromium: the time from navigation
// to the first waterfall rows (performance marks the page sets), and frame times and long tasks
// while scrolling the waterfall from top to bottom.
//
//   npm run build && node benchmarks/viewer/render.mjs [--spans 50000] [--runs 5]
//
// The trace is generated (fixed seed): 8 services, a server span per service hop, fan-out of 0–6
// children, depth up to ~14 plus one 1,000-deep chain, attributes and some events on each span. It
// is sent to a real viewer (startViewer, loopback, free ports) as OTLP JSON, and the page is opened
// at /trace/<id> like a user would. Needs Chromium at /usr/bin/chromium (bash scripts/setup-test-env.sh).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const { startViewer } = require('../../dist/src/viewer/viewer.js');

const { values } = parseArgs({ options: { spans: { type: 'string', default: '50000' }, runs: { type: 'string', default: '5' } } });
const SPANS = Number(values.spans);
const RUNS = Number(values.runs);
const CHROMIUM = process.env.TEST_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}: run \`bash scripts/setup-test-env.sh\``);
  process.exit(1);
}

// --- the trace -----------------------------------------------------------------------------------
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');
const SERVICES = ['gateway', 'orders', 'payments', 'inventory', 'users', 'search', 'shipping', 'notifications'];

function generateTrace(total) {
  const traceId = hex(Date.now(), 8) + hex(0xbe4c4, 8);
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  const spans = [];
  const add = (parent, service, name, startNs, durNs, depth) => {
    const span = { id: spans.length + 1, parent, service, name, startNs, durNs, depth };
    spans.push(span);
    return span;
  };
  const root = add(null, 'gateway', 'GET /checkout', t0, 30_000_000_000n, 0);
  const queue = [root];
  // One long chain (recursive calls, a retry loop): the case that breaks recursive tree code.
  let chainParent = root;
  for (let i = 0; i < 1000 && spans.length < total; i++) {
    chainParent = add(chainParent, 'search', `recurse ${i}`, chainParent.startNs + 1_000_000n, chainParent.durNs - 2_000_000n > 0n ? chainParent.durNs - 2_000_000n : 1000n, chainParent.depth + 1);
  }
  while (spans.length < total) {
    const parent = queue.length ? queue.shift() : spans[Math.floor(random() * spans.length)];
    const fanOut = parent.depth >= 14 ? 0 : Math.floor(random() * 7);
    let cursor = parent.startNs + 100_000n;
    for (let c = 0; c < fanOut && spans.length < total; c++) {
      const crossService = random() < 0.3;
      const service = crossService ? SERVICES[Math.floor(random() * SERVICES.length)] : parent.service;
      const durNs = BigInt(Math.floor(Number(parent.durNs) * (0.05 + random() * 0.4)));
      const name = crossService ? `POST /${service}/${Math.floor(random() * 20)}` : random() < 0.5 ? `SELECT ${service}_table` : `${service}.step${c}`;
      const child = add(parent, service, name, cursor, durNs > 1000n ? durNs : 1000n, parent.depth + 1);
      cursor += child.durNs / 2n;
      queue.push(child);
    }
    if (queue.length === 0 && fanOut === 0) queue.push(spans[Math.floor(random() * spans.length)]);
  }
  return { traceId, spans };
}

function otlpBatches(traceId, spans, batchSize) {
  const batches = [];
  for (let i = 0; i < spans.length; i += batchSize) {
    const byService = new Map();
    for (const s of spans.slice(i, i + batchSize)) {
      if (!byService.has(s.service)) byService.set(s.service, []);
      byService.get(s.service).push({
        traceId,
        spanId: hex(s.id, 8),
        parentSpanId: s.parent ? hex(s.parent.id, 8) : '',
        name: s.name,
        kind: s.name.startsWith('POST') || s.name.startsWith('GET') ? 2 : 3,
        startTimeUnixNano: String(s.startNs),
        endTimeUnixNano: String(s.startNs + s.durNs),
        attributes: [
          { key: 'http.method', value: { stringValue: 'POST' } },
          { key: 'db.statement', value: { stringValue: `SELECT * FROM ${s.service}_table WHERE id = ?` } },
          { key: 'depth', value: { intValue: String(s.depth) } },
        ],
        events: s.id % 10 === 0 ? [{ timeUnixNano: String(s.startNs + 1000n), name: 'log', attributes: [{ key: 'message', value: { stringValue: 'cache miss' } }] }] : [],
        status: { code: s.id % 97 === 0 ? 2 : 0 },
      });
    }
    batches.push(JSON.stringify({
      resourceSpans: [...byService].map(([service, list]) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'bench', version: '1.0.0' }, spans: list }],
      })),
    }));
  }
  return batches;
}

// --- run -----------------------------------------------------------------------------------------
const viewer = await startViewer({ port: 0, otlpPort: 0, maxSpans: Math.max(200_000, SPANS * 2), warn: () => {} });
const { traceId, spans } = generateTrace(SPANS);
const maxDepth = spans.reduce((m, s) => Math.max(m, s.depth), 0);
for (const body of otlpBatches(traceId, spans, 5000)) {
  const response = await fetch(viewer.otlpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!response.ok) throw new Error(`receiver answered ${response.status}: ${await response.text()}`);
}
const profile = mkdtempSync(join(tmpdir(), 'viewer-render-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(60_000);

// Times each animation-frame callback (the waterfall draws its rows in one) and the style and
// layout it causes, forced right after: the page's own cost per frame, apart from paint and from
// time the renderer waits for a core (long tasks count both).
await page.addInitScript(() => {
  const raf = window.requestAnimationFrame.bind(window);
  window.__frameCosts = [];
  window.requestAnimationFrame = (callback) => raf((timestamp) => {
    const start = performance.now();
    callback(timestamp);
    const scripted = performance.now();
    void document.body.offsetHeight;
    const costs = window.__frameCosts;
    const last = costs[costs.length - 1];
    // Callbacks of one frame share its timestamp: add them up into one entry per frame.
    if (last && last[2] === timestamp) {
      last[0] += scripted - start;
      last[1] += performance.now() - scripted;
    } else costs.push([scripted - start, performance.now() - scripted, timestamp]);
  });
});

const loads = [];
for (let run = 0; run < RUNS; run++) {
  await page.goto('about:blank');
  await page.goto(`${viewer.webUrl}/trace/${traceId}`);
  await page.waitForFunction(() => performance.getEntriesByName('viewer:first-rows').length > 0);
  loads.push(await page.evaluate(async () => {
    // One more frame: the rows are painted by then.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    const api = performance.getEntriesByType('resource').find((e) => /\/api\/traces\/[0-9a-f]+$/.test(e.name));
    return {
      scriptStart: at('viewer:trace-requested'),
      requestStart: api?.requestStart ?? NaN,
      responseStart: api?.responseStart ?? NaN,
      responseEnd: api?.responseEnd ?? NaN,
      bodyBytes: api?.decodedBodySize ?? NaN,
      fetched: at('viewer:trace-fetched'),
      firstRows: at('viewer:first-rows'),
      painted: performance.now(),
      rowsInDom: document.querySelectorAll('.span-row').length,
    };
  }));
}

// A Chromium trace of the scroll: for each long task, the renderer thread's own CPU time (tdur) next
// to its wall time (dur) tells our work apart from time spent waiting for a core on a busy machine.
const cdp = await context.newCDPSession(page);
const traceEvents = [];
cdp.on('Tracing.dataCollected', (event) => traceEvents.push(...event.value));
const traceDone = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });

// Scroll top to bottom, a screenful per frame, recording frame gaps and long tasks.
const scroll = await page.evaluate(async () => {
  const longTasks = [];
  const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)));
  observer.observe({ type: 'longtask' });
  const scroller = document.querySelector('.rows');
  const frames = [];
  window.__frameCosts.length = 0;
  let last = await new Promise((r) => requestAnimationFrame(r));
  while (scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1) {
    scroller.scrollTop += scroller.clientHeight;
    const now = await new Promise((r) => requestAnimationFrame(r));
    frames.push(now - last);
    last = now;
  }
  await new Promise((r) => setTimeout(r, 100));
  observer.disconnect();
  const lastRow = [...document.querySelectorAll('.span-row:not([hidden])')].at(-1)?.getAttribute('data-row');
  return { costs: window.__frameCosts.slice(), frames, longTasks, lastRow: Number(lastRow), rowsInDom: document.querySelectorAll('.span-row').length };
});

await cdp.send('Tracing.end');
await traceDone;
const frameEvent = traceEvents.find((e) => e.name === 'FireAnimationFrame');
const mainThreadTasks = traceEvents.filter((e) => e.name === 'RunTask' && e.pid === frameEvent?.pid && e.tid === frameEvent?.tid);
const longByWall = mainThreadTasks.filter((e) => e.dur > 50_000);
const longByCpu = mainThreadTasks.filter((e) => (e.tdur ?? 0) > 50_000);

// Collapse all / expand all on the whole trace.
const toggles = await page.evaluate(async () => {
  const time = async (selector) => {
    const start = performance.now();
    document.querySelector(selector).click();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - start;
  };
  return { collapseAll: await time('button[data-action=collapse-all]'), expandAll: await time('button[data-action=expand-all]') };
});

await context.close();
rmSync(profile, { recursive: true, force: true });
await viewer.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x) => `${x.toFixed(1)} ms`;
const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(`viewer page, ${spans.length.toLocaleString('en')}-span trace (${SERVICES.length} services, max depth ${maxDepth}), headless Chromium; machine load average ${load} on ${(await import('node:os')).availableParallelism()} cores`);
console.log(`  navigation → page script running: median ${ms(median(loads.map((l) => l.scriptStart)))}`);
console.log(`  trace request → first byte (server builds the JSON): median ${ms(median(loads.map((l) => l.responseStart - l.requestStart)))}; body ${(loads[0].bodyBytes / 1e6).toFixed(1)} MB, last byte at ${ms(median(loads.map((l) => l.responseEnd)))}`);
console.log(`  navigation → trace JSON parsed: median ${ms(median(loads.map((l) => l.fetched)))} over ${RUNS} loads`);
console.log(`  navigation → first rows drawn:  median ${ms(median(loads.map((l) => l.firstRows)))}, worst ${ms(Math.max(...loads.map((l) => l.firstRows)))} (painted: median ${ms(median(loads.map((l) => l.painted)))})`);
console.log(`  row elements in the DOM: ${loads[0].rowsInDom} after load, ${scroll.rowsInDom} after scrolling`);
console.log(`  scroll top → bottom: ${scroll.frames.length} frames, frame time median ${ms(median(scroll.frames))}, p95 ${ms(pct(scroll.frames, 0.95))}, max ${ms(Math.max(...scroll.frames))}; reached row ${scroll.lastRow + 1}`);
const scripts = scroll.costs.map((c) => c[0]);
const layouts = scroll.costs.map((c) => c[1]);
console.log(`  per frame while scrolling: script (rows drawn) median ${ms(median(scripts))}, p95 ${ms(pct(scripts, 0.95))}; style+layout median ${ms(median(layouts))}, p95 ${ms(pct(layouts, 0.95))}`);
console.log(`  long tasks (> 50 ms) while scrolling: ${scroll.longTasks.length}${scroll.longTasks.length ? `, longest ${ms(Math.max(...scroll.longTasks))}` : ''}`);
console.log(`  the renderer's main thread while scrolling (Chromium trace): ${longByWall.length} tasks over 50 ms of wall time, their CPU time at most ${ms(Math.max(0, ...longByWall.map((e) => (e.tdur ?? 0) / 1000)))}; tasks over 50 ms of CPU time: ${longByCpu.length}`);
console.log(`  collapse all: ${ms(toggles.collapseAll)}, expand all: ${ms(toggles.expandAll)} (click to next frame)`);
