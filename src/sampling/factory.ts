import type { SamplingConfig } from '../config/types.js';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, type Sampler } from './sampler.js';

/** Builds the sampler the configuration names. */
export function createSampler(cfg: SamplingConfig): Sampler {
  // Placeholder until the sampling issue lands (ratio and rate limit come then).
  switch (cfg.sampler) {
    case 'always_off':
      return new AlwaysOffSampler();
    case 'always_on':
      return new AlwaysOnSampler();
    default:
      return new ParentBasedSampler(new AlwaysOnSampler());
  }
}
