import type { Span } from './span.js';

/** Receives every finished, recording span. `onEnd` runs on the app's path: it must be cheap. */
export interface SpanProcessor {
  onEnd(span: Span): void;
  /**
   * Sends whatever is queued; resolves when done or given up. Never rejects. With `exitDeadline`
   * (a `Date.now()` time) the process is ending: one bounded try per batch, nothing after the deadline.
   */
  forceFlush(exitDeadline?: number): Promise<void>;
  /** Flushes and releases resources; later spans are dropped. Never rejects. */
  shutdown(): Promise<void>;
  /** Spans queued or being exported; lets shutdown hooks skip work when there is none. */
  pendingCount?(): number;
}
