import type { Config } from './types.js';

/**
 * Every instrumentation the agent ships, by the name users switch it with
 * (`TRACING_DISABLED_INSTRUMENTATIONS`, `TRACING_ENABLED_INSTRUMENTATIONS`, the config file).
 * The one list the configuration, the loader and the `config` command share.
 */
export const INSTRUMENTATION_NAMES = ['http', 'https', 'undici', 'fetch', 'express', 'fastify', 'koa', 'hapi', 'pg', 'mysql2', 'ioredis', 'redis', 'graphql', 'pino', 'winston', 'bunyan', 'grpc', 'opentracing'] as const;

export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/** Whether an instrumentation is switched on, and which setting decided it (for the `config` command). */
export interface InstrumentationSwitch {
  enabled: boolean;
  /** The variable (or file) that switched it off, or why it is on. */
  reason: string;
}

/**
 * Decides whether `name` runs. An instrumentation is on unless it is in the disabled list or an
 * enabled list exists without it; a name in both lists is off, because opting out is the safer reading.
 * The config file's `"koa": false` is already folded into `disabledInstrumentations` by `loadConfig`.
 */
export function instrumentationSwitch(config: Pick<Config, 'disabledInstrumentations' | 'enabledInstrumentations'>, name: string): InstrumentationSwitch {
  if (config.disabledInstrumentations.includes(name)) return { enabled: false, reason: 'in the disabled list' };
  if (config.enabledInstrumentations !== null && !config.enabledInstrumentations.includes(name)) {
    return { enabled: false, reason: 'not in TRACING_ENABLED_INSTRUMENTATIONS' };
  }
  return { enabled: true, reason: config.enabledInstrumentations === null ? 'on by default' : 'in TRACING_ENABLED_INSTRUMENTATIONS' };
}

/** True when the loader should patch the modules of instrumentation `name`. */
export function isInstrumentationEnabled(config: Pick<Config, 'disabledInstrumentations' | 'enabledInstrumentations'>, name: string): boolean {
  return instrumentationSwitch(config, name).enabled;
}

/** The instrumentations that would run, in the order of `INSTRUMENTATION_NAMES`. */
export function enabledInstrumentationNames(config: Pick<Config, 'disabledInstrumentations' | 'enabledInstrumentations'>): InstrumentationName[] {
  return INSTRUMENTATION_NAMES.filter((name) => isInstrumentationEnabled(config, name));
}
