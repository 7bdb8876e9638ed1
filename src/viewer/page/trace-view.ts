// The trace page: header with the trace's facts and actions, service legend, waterfall and the
// detail panel of the clicked span. Shows a trace from the server (/trace/<id>) or one read from a
// local OTLP JSON file.
import type { TraceSummary, ViewLogRecord, ViewSpan } from '../model.js';
import { ApiError, getOtlpText, getTrace, otlpUrl, traceKnown, type LiveUpdates } from './api.js';
import { clear, copyButton, copyText, el } from './dom.js';
import { showSpanDetail } from './detail-panel.js';
import { formatDuration, formatStart } from './format.js';
import { logRecordList } from './log-records.js';
import { serviceChip } from './service-chip.js';
import { buildSpanTree } from './span-tree.js';
import type { View, ViewContext } from './view.js';
import { Waterfall } from './waterfall.js';

/** Shows the server's trace `traceId`; follows it live while spans keep arriving. */
export function showServerTrace(main: HTMLElement, traceId: string, context: ViewContext, live: LiveUpdates): View {
  performance.mark('viewer:trace-requested');
  let disposed = false;
  let shown: TraceView | null = null;
  let shownCount = -1;
  const status = el('p', { class: 'note' }, `Loading trace ${traceId}…`);
  main.append(status);

  const load = async (): Promise<void> => {
    try {
      const response = await getTrace(traceId);
      if (disposed) return;
      performance.mark('viewer:trace-fetched');
      shown?.dispose();
      clear(main);
      shownCount = response.spans.length;
      // An older viewer (or a stand-in) may answer without `logs`.
      shown = renderTrace(main, response.spans, { traceId, fromFile: null }, response.logs ?? []);
    } catch (error) {
      if (disposed) return;
      status.className = 'problem';
      status.textContent = error instanceof ApiError && error.status === 404
        ? `Trace ${traceId} is not here (not arrived yet, or evicted). This page shows it as soon as its spans arrive.`
        : `Could not load trace ${traceId}: ${(error as Error).message}`;
    }
  };

  const unsubscribe = live.subscribe({
    traces(update) {
      const summary = update.traces.find((t: TraceSummary) => t.traceId === traceId);
      if (!summary || summary.spanCount === shownCount) return;
      if (!shown) void load();
      else shown.offerRefresh(summary.spanCount - shownCount, () => void load());
    },
    // A trace not shown yet (404: "shows it as soon as its spans arrive") may have arrived before the stream connected.
    resync() {
      if (!shown) void load();
    },
  });
  void load();
  return {
    dispose() {
      disposed = true;
      unsubscribe();
      shown?.dispose();
    },
  };
}

/** Shows traces read from a local file (several traces: a chooser above the waterfall). */
export function showFileTraces(main: HTMLElement, fileName: string, spans: readonly ViewSpan[]): View {
  const byTrace = new Map<string, ViewSpan[]>();
  for (const span of spans) {
    let list = byTrace.get(span.traceId);
    if (!list) byTrace.set(span.traceId, (list = []));
    list.push(span);
  }
  let shown: TraceView | null = null;
  const show = (traceId: string): void => {
    shown?.dispose();
    clear(main);
    shown = renderTrace(main, byTrace.get(traceId)!, { traceId, fromFile: { fileName, traceIds: [...byTrace.keys()], choose: show } });
  };
  show(byTrace.keys().next().value!);
  return { dispose: () => shown?.dispose() };
}

interface TraceSource {
  traceId: string;
  fromFile: { fileName: string; traceIds: string[]; choose(traceId: string): void } | null;
}

interface TraceView extends View {
  offerRefresh(newSpans: number, refresh: () => void): void;
}

function renderTrace(main: HTMLElement, spans: readonly ViewSpan[], source: TraceSource, logs: readonly ViewLogRecord[] = []): TraceView {
  const tree = buildSpanTree(spans);
  const root = spans[tree.spanOfRow[0] ?? 0];
  const errors = spans.reduce((n, s) => n + (s.error ? 1 : 0), 0);
  const orphans = tree.missingParent.reduce((n, m) => n + m, 0);

  const actions = el('div', { class: 'actions' });
  if (!source.fromFile) {
    const copy = el('button', { type: 'button', 'data-action': 'copy-otlp', title: 'Copy the trace as OTLP JSON' }, 'Copy OTLP JSON');
    copy.addEventListener('click', () => {
      void getOtlpText(source.traceId)
        .then((text) => copyText(text))
        .then((ok) => (copy.textContent = ok ? 'Copied' : 'Copy failed'))
        .catch(() => (copy.textContent = 'Copy failed'))
        .finally(() => setTimeout(() => (copy.textContent = 'Copy OTLP JSON'), 1500));
    });
    actions.append(copy, el('a', { class: 'button', 'data-action': 'download-otlp', href: otlpUrl(source.traceId), download: `trace-${source.traceId}.json` }, 'Download OTLP JSON'));
  }
  const refreshNote = el('span', { class: 'refresh' });
  const head = el('div', { class: 'trace-head' },
    el('h1', null, root ? `${root.service}: ${root.name}` : source.traceId),
    el('span', { class: 'facts' },
      `${spans.length} span${spans.length === 1 ? '' : 's'} · ${formatDuration(tree.endMs - tree.startMs)} · started ${formatStart(tree.startMs)}`,
      errors ? el('span', { class: 'error-mark' }, ` · ⚠ ${errors} error${errors === 1 ? '' : 's'}`) : null,
      orphans ? el('span', { class: 'badge orphan' }, `${orphans} missing parent${orphans === 1 ? '' : 's'}`) : null),
    el('span', { class: 'mono trace-id' }, source.traceId, copyButton(source.traceId)),
    refreshNote,
    actions);
  const legend = el('div', { class: 'legend' });
  for (const service of tree.services) legend.append(serviceChip(service));

  const detail = el('aside', { class: 'detail', 'aria-label': 'Span details' }, el('p', { class: 'note' }, 'Click a span to see its tags, events, links and resource.'));
  const resolver = {
    resolve: async (traceId: string): Promise<string | null> => (await traceKnown(traceId)) ? `/trace/${traceId}` : null,
  };
  const logsBySpan = new Map<string, ViewLogRecord[]>();
  for (const record of logs) {
    let list = logsBySpan.get(record.spanId);
    if (!list) logsBySpan.set(record.spanId, (list = []));
    list.push(record);
  }
  const waterfall = new Waterfall(tree, (span) => showSpanDetail(detail, span, tree.startMs, resolver, logsBySpan.get(span.spanId) ?? []));
  const spanNames = new Map(spans.map((s) => [s.spanId, s.name] as const));
  const traceLogs = logs.length === 0 ? null : el('section', { class: 'trace-logs', 'aria-label': 'Log records of the trace' },
    el('h2', null, `Log records (${logs.length})`),
    logRecordList(logs, tree.startMs, 'trace-log-list', (spanId) => spanNames.get(spanId) ?? (spanId ? `span ${spanId}` : '(no span)')));

  let fileNote: HTMLElement | null = null;
  if (source.fromFile) {
    const { fileName, traceIds, choose } = source.fromFile;
    fileNote = el('div', { class: 'file-note' }, `From the file ${fileName}, read in this browser (not uploaded).`);
    if (traceIds.length > 1) {
      fileNote.append(` It holds ${traceIds.length} traces: `);
      for (const id of traceIds) {
        const button = el('button', { type: 'button', class: 'mono', disabled: id === source.traceId }, id.slice(0, 12));
        button.addEventListener('click', () => choose(id));
        fileNote.append(button);
      }
    }
  }
  main.append(head, legend, ...(fileNote ? [fileNote] : []), el('div', { class: 'trace-body' }, waterfall.element, detail), ...(traceLogs ? [traceLogs] : []));
  waterfall.render();
  performance.mark('viewer:first-rows');
  return {
    dispose: () => waterfall.dispose(),
    offerRefresh(newSpans, refresh) {
      clear(refreshNote);
      const button = el('button', { type: 'button', 'data-action': 'refresh' }, `${newSpans > 0 ? `${newSpans} new span${newSpans === 1 ? '' : 's'}` : 'Trace changed'} — show`);
      button.addEventListener('click', refresh);
      refreshNote.append(button);
    },
  };
}
