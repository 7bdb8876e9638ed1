// The page's only way to the server: the JSON endpoints of src/viewer/model.ts.
import type { StoreStats, TraceListResponse, TraceResponse, TraceUpdate } from '../model.js';

/** An HTTP answer other than 2xx, with the server's `{ error }` text when it sent one. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: unknown };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

/** `GET /api/traces` with the list's filters. */
export function listTraces(query: URLSearchParams): Promise<TraceListResponse> {
  const text = query.toString();
  return getJson<TraceListResponse>(`/api/traces${text ? `?${text}` : ''}`);
}

/** `GET /api/traces/:id`. */
export function getTrace(traceId: string): Promise<TraceResponse> {
  return getJson<TraceResponse>(`/api/traces/${encodeURIComponent(traceId)}`);
}

/** The address of a trace as OTLP JSON (the server answers it as a download). */
export function otlpUrl(traceId: string): string {
  return `/api/traces/${encodeURIComponent(traceId)}/otlp`;
}

/** The trace as OTLP JSON text. */
export async function getOtlpText(traceId: string): Promise<string> {
  const response = await fetch(otlpUrl(traceId));
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
  return response.text();
}

/** Whether the server holds a trace, without fetching its spans (links to other traces). */
export async function traceKnown(traceId: string): Promise<boolean> {
  try {
    const list = await listTraces(new URLSearchParams({ traceId, limit: '1' }));
    return list.traces.some((t) => t.traceId === traceId);
  } catch {
    return false;
  }
}

/** Listeners for the server's live stream. */
export interface LiveListener {
  traces?(update: TraceUpdate): void;
  stats?(stats: StoreStats): void;
  /**
   * The stream has just (re)connected. The server sends only the changes made while a stream is attached,
   * so spans that arrived between the view's first load and the stream's connect (or while it was
   * reconnecting after a viewer restart) are in no event: a view that waits for data loads it again here.
   */
  resync?(): void;
}

/**
 * One EventSource for the page's lifetime (`GET /api/events`), fanned out to the current view.
 * EventSource reconnects by itself when the server restarts.
 */
export class LiveUpdates {
  private readonly listeners = new Set<LiveListener>();
  private source: EventSource | null = null;

  start(): void {
    if (this.source || typeof EventSource === 'undefined') return;
    const source = new EventSource('/api/events');
    source.addEventListener('traces', (event) => {
      const update = parse<TraceUpdate>((event as MessageEvent<string>).data);
      if (!update) return;
      for (const listener of this.listeners) listener.traces?.(update);
      for (const listener of this.listeners) listener.stats?.(update.stats);
    });
    source.addEventListener('open', () => {
      for (const listener of this.listeners) listener.resync?.();
    });
    source.addEventListener('stats', (event) => {
      const stats = parse<StoreStats>((event as MessageEvent<string>).data);
      if (stats) for (const listener of this.listeners) listener.stats?.(stats);
    });
    this.source = source;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}
