import type { SpanContext } from './span-context.js';
import type { Tags } from './span.js';

/**
 * Decides whether a new span's trace is recorded. Called once per span start, so it must be
 * cheap; `parent` is the parent context (local or remote) or null for a root span.
 */
export interface Sampler {
  shouldSample(parent: SpanContext | null, traceId: string, operationName: string, tags: Readonly<Tags> | undefined): boolean;
  /**
   * False when the decision never reads `traceId`: a new trace's id then stays bytes, and the
   * sampler gets '' (no hex made per span). Absent (a sampler written elsewhere): it gets the id.
   */
  readonly readsTraceId?: boolean;
  /** A short description for logs and the `config` command, e.g. `parent_based(always_on)`. */
  toString(): string;
}
