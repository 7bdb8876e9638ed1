// `--file traces.jsonl`: every span the store accepts is appended as one JSON line (a ViewSpan,
// see model.ts), and the file is loaded again on the next start. Writes are batched and never
// block a request; `close()` writes what is pending synchronously, so Ctrl-C loses nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { intern, internShort } from './intern.js';
import type { ViewSpan } from './model.js';
import type { TraceStore } from './store.js';
import { invalidReason } from './view-span.js';

/** What loading found, for the start-up message. */
export interface LoadReport {
  lines: number;
  loaded: number;
  /** Lines that were not a span (a torn last line after a crash, or a corrupt line). */
  skipped: number;
  /** True when the file was rewritten with only what the store kept (after skips or evictions). */
  compacted: boolean;
}

const LOAD_BATCH = 1000;

/**
 * Loads `file` into `store` (a missing file is an empty one). Bad lines are skipped with a warning
 * through `warn`, never fatal. When lines were skipped or the bound evicted spans, the file is
 * rewritten with what the store holds, so it does not grow without end across restarts and a torn
 * line is not glued to the next span appended.
 */
export async function loadSpanFile(file: string, store: TraceStore, warn: (message: string) => void): Promise<LoadReport> {
  const report: LoadReport = { lines: 0, loaded: 0, skipped: 0, compacted: false };
  if (!fs.existsSync(file)) return report;
  const evictedBefore = store.stats().evictedSpans;
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let batch: ViewSpan[] = [];
  let lastBad = 0;
  // Spans of one process share one resource; each line carries its own copy, so share them again
  // (keyed by their JSON text) rather than keep 100,000 identical arrays.
  const resources = new Map<string, ViewSpan['resource']>();
  for await (const line of lines) {
    report.lines++;
    if (line.trim() === '') continue;
    const span = parseLine(line);
    if (span === null) {
      report.skipped++;
      lastBad = report.lines;
      continue;
    }
    const resourceKey = JSON.stringify(span.resource);
    const shared = resources.get(resourceKey);
    if (shared === undefined) resources.set(resourceKey, span.resource);
    else span.resource = shared;
    span.name = intern(span.name);
    for (const a of span.attributes) {
      a.key = intern(a.key);
      if (typeof a.value === 'string') a.value = internShort(a.value);
    }
    batch.push(span);
    if (batch.length >= LOAD_BATCH) {
      report.loaded += store.add(batch).length;
      batch = [];
    }
  }
  report.loaded += store.add(batch).length;
  if (report.skipped > 0) {
    const torn = report.skipped === 1 && lastBad === report.lines;
    warn(torn ? `${file}: skipped a torn last line (the viewer was stopped while writing it)` : `${file}: skipped ${report.skipped} line(s) that are not spans`);
  }
  if (report.skipped > 0 || store.stats().evictedSpans > evictedBefore) {
    rewrite(file, store);
    report.compacted = true;
  }
  return report;
}

function parseLine(line: string): ViewSpan | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const s = v as ViewSpan;
  if (typeof s.traceId !== 'string' || typeof s.spanId !== 'string' || typeof s.parentSpanId !== 'string') return null;
  if (typeof s.name !== 'string' || typeof s.service !== 'string' || typeof s.startMs !== 'number' || typeof s.durationMs !== 'number') return null;
  if (!Array.isArray(s.attributes) || !Array.isArray(s.events) || !Array.isArray(s.links) || !Array.isArray(s.resource)) return null;
  if (invalidReason(s) !== null) return null;
  return s;
}

/** Replaces the file atomically (write aside, rename) with the store's spans. */
function rewrite(file: string, store: TraceStore): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    let chunk = '';
    for (const span of store.allSpans()) {
      chunk += `${JSON.stringify(span)}\n`;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Appends spans to the file, one JSON line each; one write in flight at a time. */
export class SpanFileWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private writing = false;
  private closed = false;
  private failed = false;
  private drained: (() => void)[] = [];

  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void,
  ) {
    this.fd = fs.openSync(file, 'a');
  }

  append(spans: readonly ViewSpan[]): void {
    if (this.closed || this.failed || spans.length === 0) return;
    let chunk = '';
    for (const span of spans) chunk += `${JSON.stringify(span)}\n`;
    this.pending.push(chunk);
    if (!this.writing) this.writeNext();
  }

  /** Resolves when everything appended so far is on disk (written; not fsynced). */
  flush(): Promise<void> {
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Waits for the write in flight, writes what is pending and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Waiting keeps the lines in order: a synchronous write now could overtake the one in flight.
    if (this.writing) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (!this.failed) {
      try {
        for (const chunk of this.pending) fs.writeSync(this.fd, chunk);
      } catch (err) {
        this.warn(`could not write ${this.file}: ${(err as Error).message}`);
      }
    }
    this.pending = [];
    fs.closeSync(this.fd);
    for (const d of this.drained.splice(0)) d();
  }

  private writeNext(): void {
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.writing = true;
    fs.write(this.fd, chunk, (err) => {
      this.writing = false;
      if (err !== null) {
        this.failed = true;
        this.warn(`could not write ${this.file}, no longer saving spans to it: ${err.message}`);
      }
      if (this.pending.length > 0 && !this.failed && !this.closed) this.writeNext();
      else for (const d of this.drained.splice(0)) d();
    });
  }
}
