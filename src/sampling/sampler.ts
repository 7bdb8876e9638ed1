import type { SpanContext } from '../api/span-context.js';
import type { Tags } from '../api/span.js';
import type { Sampler } from '../api/sampler.js';

export type { Sampler } from '../api/sampler.js';

/** Records every trace. */
export class AlwaysOnSampler implements Sampler {
  readonly readsTraceId = false;
  shouldSample(): boolean {
    return true;
  }
  toString(): string {
    return 'always_on';
  }
}

/** Records no trace; context still propagates with the sampled flag off. */
export class AlwaysOffSampler implements Sampler {
  readonly readsTraceId = false;
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
  /** With a parent the decision is the parent's flag; without one, `root` decides. */
  get readsTraceId(): boolean {
    return this.root.readsTraceId !== false;
  }
  shouldSample(parent: SpanContext | null, traceId: string, name: string, tags: Readonly<Tags> | undefined): boolean {
    if (parent !== null) return parent.sampled;
    return this.root.shouldSample(null, traceId, name, tags);
  }
  toString(): string {
    return `parent_based(${this.root.toString()})`;
  }
}
