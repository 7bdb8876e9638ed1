import type { Tracer } from '../api/tracer.js';
import type { Config } from '../config/types.js';
import { instrumentations } from '../../instrumentations/index.js';
import { describeError, log } from '../util/log.js';
import { checkForUnpluggedBundle, listenForBundledModules } from './bundled.js';
import { hookRequire } from './hooks-cjs.js';
import type { LogRecordData } from './instrumentation.js';
import { hookImport } from './hooks-esm.js';
import { packagesIn } from './module-info.js';
import { registry, type HookTarget } from './registry.js';

let installed = false;

/** The Node API behind each import-hook mode, named in the debug line so a user can tell which path ran. */
const IMPORT_HOOK_PATH = {
  lazy: 'no loader hook: built-ins patched as they load, CommonJS packages as imported',
  sync: 'module.registerHooks, in-thread',
  async: 'module.register, loader thread',
  none: 'no module hook API, imports untraced',
} as const;

/**
 * Sets up the require and import hooks for every enabled instrumentation. Called once by `start()`;
 * `tracer` may be the function that builds it, called when the first instrumentation runs. Never throws
 * (a failure leaves the app untraced, with one warning).
 */
export function installHooks(config: Readonly<Config>, tracer: Tracer | (() => Tracer), emitLog: ((record: LogRecordData) => void) | null = null): void {
  if (installed) return;
  installed = true;
  try {
    for (const entry of instrumentations) void registry.add(entry);
    const targets = registry.activate(config, tracer, emitLog);
    const quiet = new Set(instrumentations.filter((d) => d.quietIfPreloaded === true).flatMap((d) => d.modules.map((m) => m.name)));
    warnIfAlreadyLoaded(targets.filter((t) => !quiet.has(t.name)));
    hookRequire(registry, targets);
    listenForBundledModules(registry);
    checkForUnpluggedBundle(registry);
    const importHook = hookImport(registry, targets, config.importHook);
    registry.onTargetsAdded((added) => {
      log.debug(`now also watching ${added.map(describeTarget).join(', ')}`);
      hookRequire(registry, added);
      return importHook.add(added);
    });
    log.debug(`hooks installed: require, import (${importHook.mode}: ${IMPORT_HOOK_PATH[importHook.mode]}); watching ${targets.map(describeTarget).join(', ') || 'nothing yet'}`);
  } catch (err) {
    log.warn(`could not hook module loading, modules load untraced: ${describeError(err)}`);
  }
}

/** Takes back every wrap and subscription of every instrumentation (the process is ending). */
export function stopInstrumentations(): void {
  registry.stopAll();
}

function describeTarget(t: HookTarget): string {
  return t.subpath ? `${t.name}/${t.subpath}` : t.name;
}

/**
 * A package the app required before the agent started is not patched (its functions may already be
 * held by the app); say so, so the user can move the agent to `--import`/`--require`.
 */
function warnIfAlreadyLoaded(targets: readonly HookTarget[]): void {
  if (targets.length === 0) return;
  const loaded = packagesIn(Object.keys(require.cache));
  for (const t of targets) {
    if (loaded.has(t.name)) {
      log.warnOnce(
        `preloaded:${t.name}`,
        `${t.name} was loaded before the agent started and may be only partly traced; start the agent first: node --import @acme/tracing-agent/register app.js`,
      );
    }
  }
}
