import type { Instrumentation } from './instrumentation.js';
import { registry } from './registry.js';

/**
 * Adds an instrumentation of your own, handled exactly like the built-in ones: version check,
 * one patch per module instance, a guard, and opt-out by name (`TRACING_DISABLED_INSTRUMENTATIONS`).
 *
 * Register it before the app loads the module, e.g. in a file given to `--import` after the agent's
 * own `--import @acme/tracing-agent/register`. `await` the result there: on Node lines whose import
 * hook runs on a separate thread, it resolves once that thread watches the new modules.
 * With the agent not started (or `TRACING_ENABLED=false`) the instrumentation is kept but never applied.
 *
 * @throws TypeError when `def` lacks a name, a `modules` list of `{ name, versions }` or `patch`.
 */
export function registerInstrumentation(def: Instrumentation): Promise<void> {
  if (def === null || typeof def !== 'object' || typeof def.name !== 'string' || def.name === '') {
    throw new TypeError('registerInstrumentation: expected { name, modules, patch }; name must be a non-empty string');
  }
  if (!Array.isArray(def.modules) || def.modules.some((m) => !m || typeof m.name !== 'string' || typeof m.versions !== 'string')) {
    throw new TypeError(`registerInstrumentation("${def.name}"): modules must be a list of { name, versions } (a semver range)`);
  }
  if (typeof def.patch !== 'function') {
    throw new TypeError(`registerInstrumentation("${def.name}"): patch must be a function`);
  }
  return registry.add({
    name: def.name,
    modules: def.modules,
    kind: typeof def.start === 'function' ? 'patch+subscribe' : 'patch',
    load: () => def,
  });
}
