// The detail panel of the selected span: ids, timing, status, tags, events, links, resource, scope.
import type { ViewAttribute, ViewLogRecord, ViewSpan } from '../model.js';
import { clear, copyButton, el } from './dom.js';
import { formatDuration, valueText } from './format.js';
import { logRecordList } from './log-records.js';
import { serviceChip } from './service-chip.js';

/** How the panel learns whether a linked trace can be opened. */
export interface LinkResolver {
  /** Resolves to the path that shows the trace, or null when it is not known here. */
  resolve(traceId: string): Promise<string | null>;
}

/**
 * Fills `panel` with the details of `span`; `traceStartMs` anchors the relative times; `logs` are the
 * log records written while the span was active, in time order.
 */
export function showSpanDetail(panel: HTMLElement, span: ViewSpan, traceStartMs: number, links: LinkResolver, logs: readonly ViewLogRecord[] = []): void {
  clear(panel);
  panel.append(
    el('h2', { class: 'detail-name' }, span.name || '(no name)'),
    el('div', null, serviceChip(span.service), el('span', { class: 'badge' }, span.kind),
      span.error ? el('span', { class: 'badge error' }, 'error') : null),
    table([
      ['Start', `+${formatDuration(span.startMs - traceStartMs)} (${new Date(span.startMs).toISOString()})`],
      ['Duration', formatDuration(span.durationMs)],
      ['Status', span.error ? `error${span.statusMessage ? `: ${span.statusMessage}` : ''}` : span.statusMessage || 'unset / ok'],
    ], 'detail-timing'),
    el('h3', null, 'Ids'),
    idTable(span),
    el('h3', null, `Tags (${span.attributes.length})`),
    attributeTable(span.attributes, 'detail-tags'),
    el('h3', null, `Log records (${logs.length})`),
    logRecordList(logs, traceStartMs, 'detail-logs'),
  );

  panel.append(el('h3', null, `Events / logs (${span.events.length})`));
  if (span.events.length === 0) panel.append(el('div', { class: 'note-inline' }, 'none'));
  for (const event of span.events) {
    panel.append(el('div', { class: 'event' },
      el('div', null, el('strong', null, event.name || '(no name)'), ` at +${formatDuration(event.timeMs - traceStartMs)}`),
      event.attributes.length ? attributeTable(event.attributes) : null));
  }

  panel.append(el('h3', null, `Links (${span.links.length})`));
  if (span.links.length === 0) panel.append(el('div', { class: 'note-inline' }, 'none'));
  for (const link of span.links) {
    const target = el('span', { class: 'mono link-target' }, `${link.traceId} / ${link.spanId}`);
    const holder = el('div', { class: 'event link' }, target, copyButton(link.traceId, 'Copy trace id'),
      link.attributes.length ? attributeTable(link.attributes) : null);
    panel.append(holder);
    void links.resolve(link.traceId).then((path) => {
      if (!path || !holder.isConnected) return;
      target.replaceWith(el('a', { href: path, 'data-nav': true, class: 'mono link-target' }, `${link.traceId} / ${link.spanId}`));
    });
  }

  panel.append(
    el('h3', null, 'Resource'),
    attributeTable(span.resource, 'detail-resource'),
    el('h3', null, 'Scope'),
    table([['name', span.scope.name || '–'], ['version', span.scope.version || '–']], 'detail-scope'),
  );
}

function idTable(span: ViewSpan): HTMLTableElement {
  const body = el('tbody');
  const rows: [string, string][] = [['trace id', span.traceId], ['span id', span.spanId], ['parent span id', span.parentSpanId]];
  for (const [label, id] of rows) {
    body.append(el('tr', null, el('td', { class: 'key' }, label),
      el('td', { class: 'mono', 'data-id': label }, id || '(root)', id ? copyButton(id) : null)));
  }
  return el('table', { class: 'detail-ids' }, body);
}

function attributeTable(attributes: readonly ViewAttribute[], className?: string): HTMLElement {
  if (attributes.length === 0) return el('div', { class: `note-inline ${className ?? ''}` }, 'none');
  return table(attributes.map((a) => [a.key, valueText(a.value)]), className);
}

function table(rows: readonly (readonly [string, string])[], className?: string): HTMLTableElement {
  const body = el('tbody');
  for (const [key, value] of rows) body.append(el('tr', null, el('td', { class: 'key' }, key), el('td', { class: 'value' }, value)));
  return el('table', { class: className }, body);
}
