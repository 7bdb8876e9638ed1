import type { ViewLogRecord } from './model.js';

export const DEFAULT_MAX_LOG_RECORDS = 100_000;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);

/**
 * The log records the viewer holds, by trace: bounded (the oldest traces' records go first), records
 * without a valid trace id not kept (the viewer shows logs beside their spans). Separate from the
 * span store so that a flood of log lines never evicts spans.
 */
export class LogStore {
  private readonly byTrace = new Map<string, { records: ViewLogRecord[]; sorted: boolean }>();
  private count = 0;
  private untraced = 0;
  private evicted = 0;

  constructor(readonly maxRecords: number = DEFAULT_MAX_LOG_RECORDS) {
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
  }

  /** Adds records; returns how many were kept (the others had no trace). */
  add(records: readonly ViewLogRecord[]): number {
    let kept = 0;
    for (const record of records) {
      const traceId = record.traceId.toLowerCase();
      if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE) {
        this.untraced++;
        continue;
      }
      record.traceId = traceId;
      record.spanId = SPAN_ID.test(record.spanId.toLowerCase()) ? record.spanId.toLowerCase() : '';
      if (this.count >= this.maxRecords) this.evictOldest(traceId);
      let entry = this.byTrace.get(traceId);
      if (entry === undefined) this.byTrace.set(traceId, (entry = { records: [], sorted: true }));
      const last = entry.records[entry.records.length - 1];
      if (last !== undefined && last.timeMs > record.timeMs) entry.sorted = false;
      entry.records.push(record);
      this.count++;
      kept++;
    }
    return kept;
  }

  /** The trace's records in time order (arrival order among equal times); empty when none. */
  forTrace(traceId: string): readonly ViewLogRecord[] {
    const entry = this.byTrace.get(traceId);
    if (entry === undefined) return [];
    if (!entry.sorted) {
      // Array#sort is stable: records of the same millisecond keep the order they were logged in.
      entry.records.sort((a, b) => a.timeMs - b.timeMs);
      entry.sorted = true;
    }
    return entry.records;
  }

  stats(): { records: number; untraced: number; evicted: number } {
    return { records: this.count, untraced: this.untraced, evicted: this.evicted };
  }

  private evictOldest(keep: string): void {
    for (const [traceId, entry] of this.byTrace) {
      if (traceId === keep && this.byTrace.size > 1) continue;
      if (traceId === keep) {
        // One trace fills the store: drop its oldest record.
        entry.records.shift();
        this.count--;
        this.evicted++;
        return;
      }
      this.byTrace.delete(traceId);
      this.count -= entry.records.length;
      this.evicted += entry.records.length;
      return;
    }
  }
}
