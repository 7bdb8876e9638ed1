import { instrumentations } from '../../instrumentations/index.js';
import type { Config } from './types.js';

/**
 * Every instrumentation the agent ships, by the name users switch it with
 * (`TRACING_DISABLED_INSTRUMENTATIONS`, `TRACING_ENABLED_INSTRUMENTATIONS`, the config file), in
 * registry order. Read from the declarations in instrumentations/index.ts (no instrumentation code loads).
 */
export const INSTRUMENTATION_NAMES: readonly string[] = instrumentations.map((d) => d.name);

export type InstrumentationName = string;

type SwitchConfig = Pick<Config, 'disabledInstrumentations' | 'enabledInstrumentations'> & Partial<Pick<Config, 'instrumentations'>>;

/** Whether an instrumentation is switched on, and which setting decided it (for the `config` command). */
export interface InstrumentationSwitch {
  enabled: boolean;
  /** The variable (or file) that switched it off, or why it is on. */
  reason: string;
}

/**
 * THE enable rule: the loader, `describeConfig` and the `config` command all ask this function.
 * An instrumentation is on unless it is in the disabled list, or an enabled list exists without it,
 * or the config file says `false` and the enabled list does not name it (the environment outranks
 * the file; `loadConfig` has already folded such a `false` into `disabledInstrumentations`, so this
 * only matters for a `Config` made by hand). A name in both lists is off: opting out is the safer reading.
 */
export function instrumentationSwitch(config: SwitchConfig, name: string): InstrumentationSwitch {
  if (config.disabledInstrumentations.includes(name)) return { enabled: false, reason: 'in the disabled list' };
  if (config.instrumentations?.[name] === false && !(config.enabledInstrumentations?.includes(name) ?? false)) {
    return { enabled: false, reason: 'false in the TRACING_CONFIG file' };
  }
  if (config.enabledInstrumentations !== null && !config.enabledInstrumentations.includes(name)) {
    return { enabled: false, reason: 'not in TRACING_ENABLED_INSTRUMENTATIONS' };
  }
  return { enabled: true, reason: config.enabledInstrumentations === null ? 'on by default' : 'in TRACING_ENABLED_INSTRUMENTATIONS' };
}

/** True when the loader should patch the modules of instrumentation `name`. */
export function isInstrumentationEnabled(config: SwitchConfig, name: string): boolean {
  return instrumentationSwitch(config, name).enabled;
}

/** The instrumentations that would run, in the order of `INSTRUMENTATION_NAMES`. */
export function enabledInstrumentationNames(config: SwitchConfig): InstrumentationName[] {
  return INSTRUMENTATION_NAMES.filter((name) => isInstrumentationEnabled(config, name));
}
