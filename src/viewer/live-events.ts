// `GET /api/events`: a server-sent event stream of the store's changes. Changes are coalesced on
// one timer shared by all clients (at most one `traces` event per interval, however many spans
// arrive), a comment line keeps idle connections alive through proxies, and a client that goes
// away is forgotten at once.
import type * as http from 'node:http';
import { jsonText } from './json-text.js';
import type { TraceSummary, TraceUpdate } from './model.js';
import type { TraceStore } from './store.js';

export const DEFAULT_COALESCE_MS = 250;
export const DEFAULT_HEARTBEAT_MS = 15_000;
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

export interface LiveEventsOptions {
  coalesceMs?: number;
  heartbeatMs?: number;
}

/** The SSE fan-out for one store. `close()` ends every stream. */
export class LiveEvents {
  private readonly clients = new Set<http.ServerResponse>();
  private readonly changed = new Set<string>();
  private evicted = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly coalesceMs: number;

  constructor(
    private readonly store: TraceStore,
    options: LiveEventsOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
    this.unsubscribe = store.onChange((ids, evicted) => this.noteChange(ids, evicted));
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Number of connected clients (for tests). */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a `GET /api/events` request. */
  attach(req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // The current stats at once, so a page that connects late shows the right numbers.
    res.write(`retry: 2000\nevent: stats\ndata: ${jsonText(this.store.stats())}\n\n`);
    this.clients.add(res);
    const forget = (): void => {
      this.clients.delete(res);
    };
    req.on('close', forget);
    res.on('close', forget);
    res.on('error', forget);
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private noteChange(ids: ReadonlySet<string>, evicted: boolean): void {
    if (this.clients.size === 0) return;
    for (const id of ids) this.changed.add(id);
    if (evicted) this.evicted = true;
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.flush(), this.coalesceMs);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = null;
    const stats = this.store.stats();
    if (this.changed.size > 0) {
      const traces: TraceSummary[] = [];
      // Traces evicted since they changed are simply left out; the stats say what went.
      for (const id of this.changed) {
        const summary = this.store.summary(id);
        if (summary !== undefined) traces.push(summary);
      }
      this.changed.clear();
      const update: TraceUpdate = { traces, stats };
      this.broadcast(`event: traces\ndata: ${jsonText(update)}\n\n`);
    }
    if (this.evicted) {
      this.evicted = false;
      this.broadcast(`event: stats\ndata: ${jsonText(stats)}\n\n`);
    }
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) {
      if (res.destroyed || res.writableEnded) this.clients.delete(res);
      else if (res.writableLength > MAX_BACKLOG_BYTES) {
        // A client that stopped reading (a suspended tab) would make us buffer without end; drop
        // it, and EventSource reconnects and reloads the list when it wakes.
        this.clients.delete(res);
        res.destroy();
      } else res.write(frame);
    }
  }
}
