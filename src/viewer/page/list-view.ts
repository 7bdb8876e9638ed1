// The trace list: newest first, filtered on the server, refreshed live as spans arrive. The filters
// live in the URL query (replaceState), so a reload or a shared link shows the same list.
import type { TraceListResponse, TraceSummary } from '../model.js';
import { listTraces, type LiveUpdates } from './api.js';
import { clear, el } from './dom.js';
import { formatDuration, formatStart, isTraceId } from './format.js';
import { serviceChip } from './service-chip.js';
import type { View, ViewContext } from './view.js';

/** The filter fields, named as the query parameters of `GET /api/traces`. */
const FILTERS = ['service', 'operation', 'minDurationMs', 'errors', 'tag', 'traceId'] as const;
type FilterName = (typeof FILTERS)[number];

/** Shows the trace list in `main`. */
export function showTraceList(main: HTMLElement, context: ViewContext, live: LiveUpdates): View {
  const params = new URLSearchParams(location.search);
  const service = el('select', { name: 'service' }, el('option', { value: '' }, 'All services'));
  const operation = el('select', { name: 'operation' }, el('option', { value: '' }, 'All operations'));
  const minDuration = el('input', { name: 'minDurationMs', type: 'number', min: 0, step: 'any', placeholder: 'ms' });
  const errors = el('input', { name: 'errors', type: 'checkbox' });
  const tag = el('input', { name: 'tag', type: 'text', placeholder: 'http.status_code=500', spellcheck: 'false' });
  const traceId = el('input', { name: 'traceId', type: 'text', placeholder: 'trace id (4+ hex; Enter opens)', spellcheck: 'false', class: 'mono' });
  setSelect(service, [], params.get('service') ?? '');
  setSelect(operation, [], params.get('operation') ?? '');
  minDuration.value = params.get('minDurationMs') ?? '';
  errors.checked = params.get('errors') === '1';
  tag.value = params.get('tag') ?? '';
  traceId.value = params.get('traceId') ?? '';

  const form = el('form', { class: 'filters', role: 'search' },
    el('label', null, 'Service', service),
    el('label', null, 'Operation', operation),
    el('label', null, 'Min duration (ms)', minDuration),
    el('label', null, 'Tag key=value', tag),
    el('label', null, 'Trace id', traceId),
    el('label', { class: 'inline' }, errors, 'Errors only'),
    // Lets Enter submit the form (and open a whole trace id) without a visible button.
    el('button', { type: 'submit', hidden: true }),
  );
  const summary = el('div', { class: 'list-summary' }, 'Loading…');
  const body = el('tbody');
  const table = el('table', { class: 'traces' },
    el('thead', null, el('tr', null,
      el('th', null, 'Start'), el('th', null, 'Root'), el('th', { class: 'num' }, 'Duration'),
      el('th', { class: 'num' }, 'Spans'), el('th', null, 'Services'), el('th', null, 'Errors'))),
    body);
  main.append(form, el('div', { class: 'list-wrap' }, summary, table));

  /** The query of the current filters, without empty ones. */
  const query = (): URLSearchParams => {
    const values: Record<FilterName, string> = {
      service: service.value,
      operation: operation.value,
      minDurationMs: minDuration.value.trim(),
      errors: errors.checked ? '1' : '',
      tag: tag.value.trim(),
      traceId: traceId.value.trim().toLowerCase(),
    };
    const out = new URLSearchParams();
    for (const name of FILTERS) if (values[name]) out.set(name, values[name]);
    return out;
  };

  // One request at a time; changes while one is in flight are folded into one more.
  let loading = false;
  let again = false;
  let disposed = false;
  const load = async (): Promise<void> => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const response = await listTraces(query());
      if (!disposed) render(response);
    } catch (error) {
      if (!disposed) summary.textContent = `Could not load the traces: ${(error as Error).message}`;
    } finally {
      loading = false;
      if (again && !disposed) {
        again = false;
        void load();
      }
    }
  };

  const render = (response: TraceListResponse): void => {
    context.showStats(response.stats);
    setSelect(service, response.services, service.value);
    setSelect(operation, response.operations, operation.value);
    clear(body);
    for (const trace of response.traces) body.append(traceRow(trace, context));
    const filtered = query().toString() !== '';
    summary.textContent = response.traces.length === 0
      ? filtered ? 'No trace matches these filters.' : 'No traces yet. Run an app with the agent (it sends to http://localhost:4318 by default); traces appear here as they arrive.'
      : `${response.matched} ${filtered ? 'matching ' : ''}trace${response.matched === 1 ? '' : 's'}${response.matched > response.traces.length ? `, newest ${response.traces.length} shown` : ''}`;
    performance.mark('viewer:list-rendered');
  };

  let typing: ReturnType<typeof setTimeout> | undefined;
  const changed = (): void => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      const text = query().toString();
      history.replaceState(history.state, '', `/${text ? `?${text}` : ''}`);
      void load();
    }, 200);
  };
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  // Enter on a whole trace id opens that trace: the quickest way from a log line to its waterfall.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = traceId.value.trim().toLowerCase();
    if (isTraceId(id)) context.navigate(`/trace/${id}`);
  });

  const unsubscribe = live.subscribe({ traces: () => void load(), resync: () => void load() });
  void load();
  return {
    dispose() {
      disposed = true;
      clearTimeout(typing);
      unsubscribe();
    },
  };
}

function traceRow(trace: TraceSummary, context: ViewContext): HTMLTableRowElement {
  const href = `/trace/${trace.traceId}`;
  const services = el('td');
  for (const name of trace.services) services.append(serviceChip(name));
  const row = el('tr', { class: 'trace-row', 'data-trace-id': trace.traceId },
    el('td', { class: 'mono', title: new Date(trace.startMs).toISOString() }, formatStart(trace.startMs)),
    el('td', null,
      serviceChip(trace.rootService),
      el('a', { href, 'data-nav': true, class: 'root-name' }, trace.rootName || '(no name)'),
      trace.hasRoot ? null : el('span', { class: 'badge orphan', title: 'No span without a parent has arrived (yet)' }, 'root missing')),
    el('td', { class: 'num' }, formatDuration(trace.durationMs)),
    el('td', { class: 'num' }, String(trace.spanCount)),
    services,
    el('td', null, trace.errorCount > 0 ? el('span', { class: 'error-mark', title: 'spans with an error' }, `⚠ ${trace.errorCount}`) : ''),
  );
  row.addEventListener('click', (event) => {
    if ((event.target as Element).closest('a')) return; // the link navigates by itself
    context.navigate(href);
  });
  return row;
}

/** Replaces a select's options, keeping its first ("All …") option and the selected value. */
function setSelect(select: HTMLSelectElement, names: readonly string[], selected: string): void {
  const first = select.options[0]!;
  const wanted = names.includes(selected) || !selected ? names : [selected, ...names];
  if (select.options.length - 1 === wanted.length && wanted.every((n, i) => select.options[i + 1]!.value === n)) {
    select.value = selected;
    return;
  }
  clear(select);
  select.append(first);
  for (const name of wanted) select.append(el('option', { value: name }, name));
  select.value = selected;
}
