import type { SamplingConfig } from '../config/types.js';
import type { RateLimitingSampler as RateLimitingSamplerType } from './rate-limit.js';
import type { TraceIdRatioSampler as TraceIdRatioSamplerType } from './ratio.js';
import type { Sampler } from '../api/sampler.js';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler } from './sampler.js';

// The ratio and rate-limiting samplers are required only when configured (neither is on by default).
function ratio(rate: number): TraceIdRatioSamplerType {
  const { TraceIdRatioSampler } = require('./ratio.js') as typeof import('./ratio.js');
  return new TraceIdRatioSampler(rate);
}
function rateLimited(inner: Sampler, perSecond: number): RateLimitingSamplerType {
  const { RateLimitingSampler } = require('./rate-limit.js') as typeof import('./rate-limit.js');
  return new RateLimitingSampler(inner, perSecond);
}

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
  const rootRule = (): Sampler => (rate >= 1 ? new AlwaysOnSampler() : ratio(rate));
  let sampler: Sampler;
  switch (cfg.sampler) {
    case 'always_off':
      return new AlwaysOffSampler();
    case 'always_on':
      sampler = new AlwaysOnSampler();
      break;
    case 'ratio':
      sampler = ratio(rate);
      break;
    default:
      sampler = new ParentBasedSampler(rootRule());
  }
  if (Number.isFinite(cfg.rateLimit) && cfg.rateLimit > 0) {
    if (sampler instanceof ParentBasedSampler) return new ParentBasedSampler(rateLimited(rootRule(), cfg.rateLimit));
    return rateLimited(sampler, cfg.rateLimit);
  }
  return sampler;
}
