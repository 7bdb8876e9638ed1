// Log records (OTLP logs the agent's logger instrumentations send) in a span's detail panel and
// under a trace's waterfall. Every value goes through `el`, so a log line is always text.
import type { ViewLogRecord } from '../model.js';
import { el } from './dom.js';
import { formatDuration, valueText } from './format.js';

/** OTLP severity ranges, by their short name. */
function severityName(n: number): string {
  if (n >= 21) return 'FATAL';
  if (n >= 17) return 'ERROR';
  if (n >= 13) return 'WARN';
  if (n >= 9) return 'INFO';
  if (n >= 5) return 'DEBUG';
  return n >= 1 ? 'TRACE' : '';
}

/**
 * The records as a list, in the order given (time order from the server). `spanName` adds which span
 * each record belongs to (the trace-wide list).
 */
export function logRecordList(records: readonly ViewLogRecord[], traceStartMs: number, className: string, spanName?: (spanId: string) => string | undefined): HTMLElement {
  if (records.length === 0) return el('div', { class: `note-inline ${className}` }, 'none');
  const list = el('ol', { class: `log-records ${className}` });
  for (const record of records) {
    const level = severityName(record.severityNumber);
    const span = spanName?.(record.spanId);
    list.append(el('li', { class: `log-record${level ? ` severity-${level.toLowerCase()}` : ''}`, 'data-span-id': record.spanId },
      el('span', { class: 'log-time mono' }, `+${formatDuration(record.timeMs - traceStartMs)}`),
      ' ',
      el('span', { class: 'badge log-level' }, record.severityText || level || '–'),
      ' ',
      span !== undefined ? el('span', { class: 'log-span' }, span) : null,
      span !== undefined ? ' ' : null,
      el('span', { class: 'log-body' }, record.body),
      record.attributes.length
        ? el('div', { class: 'log-fields' }, ...record.attributes.map((a) => el('span', { class: 'log-field' }, el('span', { class: 'key' }, a.key), '=', valueText(a.value), ' ')))
        : null));
  }
  return list;
}
