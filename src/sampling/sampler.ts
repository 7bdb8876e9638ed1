import type { SpanContext } from '../api/span-context.js';
import type { Tags } from '../api/span.js';

/**
 * Decides whether a new span's trace is recorded. Called once per span start, so it must be
 * cheap; `parent` is the parent context (local or remote) or null for a root span.
 */
export interface Sampler {
  shouldSample(parent: SpanContext | null, traceId: string, operationName: string, tags: Readonly<Tags> | undefined): boolean;
  /** A short description for logs and the `config` command, e.g. `parent_based(always_on)`. */
  toString(): string;
}

/** Records every trace. */
export class AlwaysOnSampler implements Sampler {
  shouldSample(): boolean {
    return true;
  }
  toString(): string {
    return 'always_on';
  }
}

/** Records no trace; context still propagates with the sampled flag off. */
export class AlwaysOffSampler implements Sampler {
  shouldSample(): boolean {
    return false;
  }
  toString(): string {
    return 'always_off';
  }
}

/** Follows the parent's sampled flag; asks `root` only for spans that start a trace. */
export class ParentBasedSampler implements Sampler {
  /** @param root decides for spans that start a trace. */
  constructor(readonly root: Sampler) {}
  shouldSample(parent: SpanContext | null, traceId: string, name: string, tags: Readonly<Tags> | undefined): boolean {
    if (parent !== null) return parent.sampled;
    return this.root.shouldSample(null, traceId, name, tags);
  }
  toString(): string {
    return `parent_based(${this.root.toString()})`;
  }
}
