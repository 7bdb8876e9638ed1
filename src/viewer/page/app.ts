// The viewer's page: one HTML document for `/` (trace list) and `/trace/<id>` (trace page), with
// history.pushState navigation between them, so a reload or a shared address shows the same view.
import type { StoreStats } from '../model.js';
import { LiveUpdates } from './api.js';
import { clear, el } from './dom.js';
import { showTraceList } from './list-view.js';
import { parseOtlpJson } from './otlp-file.js';
import { showFileTraces, showServerTrace } from './trace-view.js';
import type { View, ViewContext } from './view.js';

const main = document.getElementById('main')!;
const statsLine = document.getElementById('stats')!;
const fileInput = document.getElementById('open-file') as HTMLInputElement;
const live = new LiveUpdates();
let current: View | null = null;

const context: ViewContext = {
  navigate(path) {
    history.pushState(null, '', path);
    route();
  },
  showStats,
};

function showStats(stats: StoreStats): void {
  const parts = [
    `${stats.spans.toLocaleString()} / ${stats.maxSpans.toLocaleString()} spans`,
    `${stats.traces.toLocaleString()} trace${stats.traces === 1 ? '' : 's'}`,
    `evicted ${stats.evictedTraces.toLocaleString()} trace${stats.evictedTraces === 1 ? '' : 's'} (${stats.evictedSpans.toLocaleString()} spans)`,
  ];
  if (stats.rejectedRequests > 0) parts.push(`${stats.rejectedRequests.toLocaleString()} rejected request${stats.rejectedRequests === 1 ? '' : 's'}`);
  statsLine.textContent = parts.join(' · ');
  statsLine.title = 'The viewer keeps at most the bound of spans in memory; the oldest traces are evicted whole.';
}

function replaceView(next: () => View): void {
  current?.dispose();
  current = null;
  clear(main);
  current = next();
}

function route(): void {
  const match = /^\/trace\/([0-9a-fA-F]{1,32})\/?$/.exec(location.pathname);
  if (match) {
    const traceId = match[1]!.toLowerCase();
    document.title = `Trace ${traceId.slice(0, 12)} · tracing-agent`;
    replaceView(() => showServerTrace(main, traceId, context, live));
  } else if (location.pathname === '/' || location.pathname === '/index.html') {
    document.title = 'Traces · tracing-agent';
    replaceView(() => showTraceList(main, context, live));
  } else {
    replaceView(() => {
      main.append(el('p', { class: 'problem' }, `Nothing at ${location.pathname}. `, el('a', { href: '/', 'data-nav': true }, 'Back to the traces')));
      return { dispose() {} };
    });
  }
}

// Same-page links navigate without a reload; modified clicks (new tab, download) keep the browser's way.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a[data-nav]');
  if (!(anchor instanceof HTMLAnchorElement) || anchor.origin !== location.origin) return;
  event.preventDefault();
  context.navigate(anchor.pathname + anchor.search);
});
window.addEventListener('popstate', route);

fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  void file.text().then((text) => {
    fileInput.value = ''; // the same file can be opened again
    let spans;
    try {
      spans = parseOtlpJson(text);
    } catch (error) {
      replaceView(() => {
        main.append(el('p', { class: 'problem' }, `Could not read ${file.name} as OTLP JSON: ${(error as Error).message}`));
        return { dispose() {} };
      });
      return;
    }
    // An entry of its own in the history, so Back returns to the view the file replaced.
    history.pushState({ file: file.name }, '', `${location.pathname}${location.search}#file`);
    document.title = `${file.name} · tracing-agent`;
    replaceView(() => showFileTraces(main, file.name, spans));
  });
});

live.start();
live.subscribe({ stats: showStats });
route();
