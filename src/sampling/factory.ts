import type { SamplingConfig } from '../config/types.js';
import { RateLimitingSampler } from './rate-limit.js';
import { TraceIdRatioSampler } from './ratio.js';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, type Sampler } from './sampler.js';

/**
 * Builds the sampler the configuration names:
 * - `always_on`, `always_off`;
 * - `ratio`: `rate` of traces, decided from the trace id (the parent's flag is not consulted);
 * - `parent_based` (default) and `parent_based_ratio`: follow the parent's sampled flag; a root
 *   is recorded with probability `rate` (always when `rate` is 1).
 * A `rateLimit` above 0 then caps new traces per second, whatever the rule.
 */
export function createSampler(cfg: SamplingConfig): Sampler {
  const rate = Number.isFinite(cfg.rate) ? Math.min(1, Math.max(0, cfg.rate)) : 1;
  const rootRule = (): Sampler => (rate >= 1 ? new AlwaysOnSampler() : new TraceIdRatioSampler(rate));
  let sampler: Sampler;
  switch (cfg.sampler) {
    case 'always_off':
      return new AlwaysOffSampler();
    case 'always_on':
      sampler = new AlwaysOnSampler();
      break;
    case 'ratio':
      sampler = new TraceIdRatioSampler(rate);
      break;
    default:
      sampler = new ParentBasedSampler(rootRule());
  }
  if (Number.isFinite(cfg.rateLimit) && cfg.rateLimit > 0) {
    if (sampler instanceof ParentBasedSampler) return new ParentBasedSampler(new RateLimitingSampler(rootRule(), cfg.rateLimit));
    return new RateLimitingSampler(sampler, cfg.rateLimit);
  }
  return sampler;
}
