// The viewer's trace store: in memory, bounded by span count. Traces are kept in arrival order (a
// Map iterates in insertion order), so the oldest trace — the one whose first span arrived
// earliest — is evicted whole when a new span would exceed the bound. Each trace keeps its summary
// up to date as spans arrive, so listing never walks the spans unless a tag filter asks for it.
import type { StoreStats, TraceListResponse, TraceSummary, ViewSpan } from './model.js';
import { valueText } from './view-span.js';

/** Filters of `GET /api/traces`, already parsed. */
export interface TraceQuery {
  service?: string;
  operation?: string;
  minDurationMs?: number;
  errorsOnly?: boolean;
  tag?: { key: string; value: string };
  traceIdPrefix?: string;
  limit?: number;
}

export const DEFAULT_LIST_LIMIT = 200;
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_MAX_SPANS = 100_000;

interface TraceEntry {
  readonly spans: ViewSpan[];
  readonly spanIds: Set<string>;
  /** Span names in this trace, with counts (for the operation filter). */
  readonly operations: Map<string, number>;
  readonly summary: TraceSummary;
  /** The latest end so far: with the earliest start, the trace's duration. */
  endMs: number;
  sorted: boolean;
}

/** Called after spans were added: the ids of the traces that changed, and whether traces were evicted. */
export type StoreListener = (changedTraceIds: ReadonlySet<string>, evicted: boolean) => void;

/** The in-memory store. Not thread-safe by design: Node runs it on one thread. */
export class TraceStore {
  private readonly traces = new Map<string, TraceEntry>();
  private spanCount = 0;
  private evictedTraces = 0;
  private evictedSpans = 0;
  private rejected = 0;
  private readonly serviceCounts = new Map<string, number>();
  private readonly operationCounts = new Map<string, number>();
  private byStart: TraceEntry[] | null = null;
  private readonly listeners = new Set<StoreListener>();

  constructor(readonly maxSpans: number = DEFAULT_MAX_SPANS) {
    if (!Number.isSafeInteger(maxSpans) || maxSpans < 1) throw new RangeError(`maxSpans must be a positive integer, got ${maxSpans}`);
  }

  /** Listens for changes; returns the function that stops listening. */
  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds valid spans (ids checked by the caller). Duplicates (same trace and span id) are ignored.
   * Returns the spans actually added, in order, so the caller can persist exactly those.
   */
  add(spans: readonly ViewSpan[], now = Date.now()): ViewSpan[] {
    const added: ViewSpan[] = [];
    const changed = new Set<string>();
    let evicted = false;
    for (const span of spans) {
      let entry = this.traces.get(span.traceId);
      if (entry === undefined) entry = this.createEntry(span);
      else if (entry.spanIds.has(span.spanId)) continue;
      // Every span of a trace can share one copy of its id.
      else span.traceId = entry.summary.traceId;
      // One trace alone at the bound: keep what we have rather than evicting the trace itself.
      if (entry.spans.length >= this.maxSpans) {
        this.evictedSpans++;
        evicted = true;
        continue;
      }
      if (this.spanCount >= this.maxSpans) evicted = this.evictFor(span.traceId) || evicted;
      this.addToEntry(entry, span, now);
      added.push(span);
      changed.add(span.traceId);
    }
    if ((changed.size > 0 || evicted) && this.listeners.size > 0) for (const l of this.listeners) l(changed, evicted);
    return added;
  }

  /** Counts a refused request (malformed, oversized, wrong type) for the stats. */
  countRejectedRequest(): void {
    this.rejected++;
  }

  stats(): StoreStats {
    return {
      traces: this.traces.size,
      spans: this.spanCount,
      maxSpans: this.maxSpans,
      evictedTraces: this.evictedTraces,
      evictedSpans: this.evictedSpans,
      rejectedRequests: this.rejected,
    };
  }

  /** The trace's summary, or undefined when unknown (or evicted). */
  summary(traceId: string): TraceSummary | undefined {
    return this.traces.get(traceId)?.summary;
  }

  /** The trace's spans in start order, or undefined when unknown. */
  spans(traceId: string): readonly ViewSpan[] | undefined {
    const entry = this.traces.get(traceId);
    if (entry === undefined) return undefined;
    if (!entry.sorted) {
      entry.spans.sort((a, b) => a.startMs - b.startMs);
      entry.sorted = true;
    }
    return entry.spans;
  }

  /** Every span, oldest trace first (for the file's compaction). */
  *allSpans(): IterableIterator<ViewSpan> {
    for (const entry of this.traces.values()) yield* entry.spans;
  }

  /** The trace list, newest first, filtered. */
  list(query: TraceQuery = {}): TraceListResponse {
    const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT);
    const traces: TraceSummary[] = [];
    let matched = 0;
    for (const entry of this.sortedByStart()) {
      if (!matches(entry, query)) continue;
      matched++;
      if (traces.length < limit) traces.push(entry.summary);
    }
    return {
      traces,
      matched,
      stats: this.stats(),
      services: [...this.serviceCounts.keys()].sort(),
      operations: [...this.operationCounts.keys()].sort(),
    };
  }

  private createEntry(span: ViewSpan): TraceEntry {
    const entry: TraceEntry = {
      spans: [],
      spanIds: new Set(),
      operations: new Map(),
      summary: {
        traceId: span.traceId,
        rootService: span.service,
        rootName: span.name,
        hasRoot: false,
        startMs: span.startMs,
        durationMs: 0,
        spanCount: 0,
        services: [],
        errorCount: 0,
        updatedMs: 0,
      },
      endMs: span.startMs,
      sorted: true,
    };
    this.traces.set(span.traceId, entry);
    this.byStart = null;
    return entry;
  }

  private addToEntry(entry: TraceEntry, span: ViewSpan, now: number): void {
    const s = entry.summary;
    const first = entry.spans.length === 0;
    const last = entry.spans[entry.spans.length - 1];
    if (last !== undefined && span.startMs < last.startMs) entry.sorted = false;
    entry.spans.push(span);
    entry.spanIds.add(span.spanId);
    this.spanCount++;
    s.spanCount++;
    s.updatedMs = now;
    if (span.error) s.errorCount++;
    if (!s.services.includes(span.service)) {
      s.services.push(span.service);
      s.services.sort();
      increment(this.serviceCounts, span.service);
    }
    if (increment(entry.operations, span.name) === 1) increment(this.operationCounts, span.name);
    const isRoot = span.parentSpanId === '';
    // The root names the trace; until it arrives, the earliest span does.
    if (isRoot && !s.hasRoot) {
      s.hasRoot = true;
      s.rootService = span.service;
      s.rootName = span.name;
    } else if (!s.hasRoot && !first && span.startMs < s.startMs) {
      s.rootService = span.service;
      s.rootName = span.name;
    }
    if (first || span.startMs < s.startMs) {
      if (!first) this.byStart = null;
      s.startMs = span.startMs;
    }
    const end = span.startMs + span.durationMs;
    if (first || end > entry.endMs) entry.endMs = end;
    s.durationMs = entry.endMs - s.startMs;
  }

  /** Evicts the oldest traces (not `keep`) until one more span fits. Returns whether anything went. */
  private evictFor(keep: string): boolean {
    let any = false;
    for (const [traceId, entry] of this.traces) {
      if (this.spanCount < this.maxSpans) break;
      if (traceId === keep) continue;
      this.remove(traceId, entry);
      any = true;
    }
    return any;
  }

  private remove(traceId: string, entry: TraceEntry): void {
    this.traces.delete(traceId);
    this.byStart = null;
    this.spanCount -= entry.spans.length;
    this.evictedTraces++;
    this.evictedSpans += entry.spans.length;
    for (const service of entry.summary.services) decrement(this.serviceCounts, service);
    for (const name of entry.operations.keys()) decrement(this.operationCounts, name);
  }

  private sortedByStart(): TraceEntry[] {
    // Re-sorted only after a trace was added, removed or moved earlier: the list is read far more
    // often (every live update) than traces begin.
    if (this.byStart === null) this.byStart = [...this.traces.values()].sort((a, b) => b.summary.startMs - a.summary.startMs);
    return this.byStart;
  }
}

function matches(entry: TraceEntry, q: TraceQuery): boolean {
  const s = entry.summary;
  if (q.traceIdPrefix !== undefined && !s.traceId.startsWith(q.traceIdPrefix)) return false;
  if (q.errorsOnly === true && s.errorCount === 0) return false;
  if (q.minDurationMs !== undefined && s.durationMs < q.minDurationMs) return false;
  if (q.service !== undefined && !s.services.includes(q.service)) return false;
  if (q.operation !== undefined && !entry.operations.has(q.operation)) return false;
  if (q.tag !== undefined) {
    const { key, value } = q.tag;
    let found = false;
    for (const span of entry.spans) {
      for (const a of span.attributes) {
        if (a.key === key && valueText(a.value) === value) {
          found = true;
          break;
        }
      }
      if (found) break;
    }
    if (!found) return false;
  }
  return true;
}

function increment(map: Map<string, number>, key: string): number {
  const n = (map.get(key) ?? 0) + 1;
  map.set(key, n);
  return n;
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
