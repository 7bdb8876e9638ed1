import type { Tracer } from '../api/tracer.js';
import { isInstrumentationEnabled } from '../config/instrumentation-names.js';
import type { Config } from '../config/types.js';
import { describeError, log } from '../util/log.js';
import type { InstrumentationCode, LogRecordData, ModuleTarget, RegistryEntry } from './instrumentation.js';
import type { AgentRuntime, InstrumentationRun } from './kit.js';
import { normalizeSubpath, stripNodePrefix, type LoadedModule } from './module-info.js';
import { satisfiesSimpleRange } from './version-range.js';

/** A module (or a file inside a package) the hooks must watch. */
export interface HookTarget {
  /** Package or built-in name, without `node:`. */
  name: string;
  /** Normalized file inside the package; '' for its entry. */
  subpath: string;
  /** As declared by the instrumentation (`ModuleTarget.esModule`); unset: read from the installed package. */
  esModule?: boolean;
}

/** Called with what newly registered instrumentations need hooked; resolves once the hooks know. */
export type TargetsListener = (added: readonly HookTarget[]) => Promise<void> | void;

/** `express`, `node:http`, `@scope/pkg/lib/x.js` → name and normalized subpath. */
export function parseModuleKey(key: string): HookTarget {
  const bare = stripNodePrefix(key);
  const parts = bare.split('/');
  const nameParts = bare.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, nameParts).join('/'), subpath: normalizeSubpath(parts.slice(nameParts).join('/')) };
}

/** The key a module target is listed under in a registry entry. */
export function moduleKey(target: ModuleTarget): string {
  return target.file ? `${stripNodePrefix(target.name)}/${target.file.replace(/^\.?\//, '')}` : target.name;
}

/** True when the instrumentation's modules are hooked (it patches). */
export function patches(entry: Pick<RegistryEntry, 'kind'>): boolean {
  return entry.kind !== 'subscribe';
}

/** True when the instrumentation subscribes to `diagnostics_channel` when the agent starts. */
export function subscribes(entry: Pick<RegistryEntry, 'kind'>): boolean {
  return entry.kind !== 'patch';
}

/**
 * The one registry both hooks (require and import) feed. Knows which instrumentations exist and are
 * enabled, loads each lazily, checks versions, and patches each module instance once, in a guard.
 * What each instrumentation wrapped and subscribed is recorded by its `InstrumentationRun`, the one
 * undo mechanism: used when it fails, and by `stopAll`.
 */
export class InstrumentationRegistry {
  private readonly entries = new Map<string, RegistryEntry>();
  private readonly byModule = new Map<string, RegistryEntry[]>();
  private readonly targets: HookTarget[] = [];
  private readonly targetKeys = new Set<string>();
  private fileTargets = 0;
  private readonly codes = new Map<string, InstrumentationCode<any> | null>();
  private readonly runs = new Map<string, InstrumentationRun<any>>();
  private readonly disabled = new Set<string>();
  // Module instance (its exports object) → instrumentation/target key → what patching returned.
  private readonly applied = new WeakMap<object, Map<string, unknown>>();
  private readonly reportedSkips = new Set<string>();
  private active: { config: Readonly<Config>; tracer: Tracer | (() => Tracer); emitLog: ((record: LogRecordData) => void) | null } | null = null;
  // Built at the first instrumentation that runs, with the tracer: a process that loads no instrumented
  // module never builds either (nor loads the instrumentation kit and the tracer core).
  private runtime: (AgentRuntime & { config: Readonly<Config> }) | null = null;
  private listener: TargetsListener | null = null;
  private readonly disableListeners: Array<() => void> = [];
  // Subscribers waiting for their first message (`channels` declared): name → removes the stand-ins.
  private readonly waitingSubscribers = new Map<string, () => void>();
  private packagePatched = false;

  /**
   * Adds an instrumentation. Before `activate` it is only remembered; after, it is hooked at once
   * (when enabled) and the promise resolves when the hooks will see its modules.
   */
  add(entry: RegistryEntry): Promise<void> {
    if (this.entries.has(entry.name)) {
      log.warnOnce(`duplicate:${entry.name}`, `instrumentation "${entry.name}" is registered twice; the first one is kept`);
      return Promise.resolve();
    }
    this.entries.set(entry.name, entry);
    if (this.active === null || !this.isEnabled(entry.name)) return Promise.resolve();
    const added = this.index(entry);
    if (subscribes(entry)) this.startSubscriber(entry);
    if (added.length === 0 || this.listener === null) return Promise.resolve();
    try {
      return Promise.resolve(this.listener(added)).catch((err: unknown) => log.debug(`hook update failed: ${describeError(err)}`));
    } catch (err) {
      log.debug(`hook update failed: ${describeError(err)}`);
      return Promise.resolve();
    }
  }

  /**
   * Switches the registry on with the agent's config and tracer (and the logs exporter's queue, when
   * one is on); returns the targets to hook. `tracer` may be a function that builds it: it is called when
   * the first instrumentation runs (the agent's start builds no tracer for a process that patches nothing).
   */
  activate(config: Readonly<Config>, tracer: Tracer | (() => Tracer), emitLog: ((record: LogRecordData) => void) | null = null): readonly HookTarget[] {
    if (this.active !== null) return this.targets;
    this.active = { config, tracer, emitLog };
    for (const entry of this.entries.values()) {
      if (!this.isEnabled(entry.name)) {
        log.debug(`instrumentation "${entry.name}" is switched off by configuration`);
        continue;
      }
      this.index(entry);
    }
    for (const entry of this.entries.values()) {
      if (subscribes(entry) && this.isEnabled(entry.name)) this.startSubscriber(entry);
    }
    return this.targets;
  }

  /** Every target hooked so far. */
  hookTargets(): readonly HookTarget[] {
    return this.targets;
  }

  /** Targets registered after `activate` are reported here, so the hooks can widen what they watch. */
  onTargetsAdded(listener: TargetsListener): void {
    this.listener = listener;
  }

  /** Called after an instrumentation is disabled and its wraps undone (ES-module copies need a refresh). */
  onDisable(listener: () => void): void {
    this.disableListeners.push(listener);
  }

  /** True when `name` (and `subpath`, '' for the entry) is hooked; cheap enough for every resolve. */
  hasTarget(name: string, subpath: string): boolean {
    return this.targetKeys.has(`${name}\0${subpath}`);
  }

  /** True when some target is a file inside a package (so resolved paths need a look). */
  hasFileTargets(): boolean {
    return this.fileTargets > 0;
  }

  /** True when some enabled instrumentation wants `name` (cheap; called for every hooked load). */
  watches(name: string): boolean {
    return this.byModule.has(name);
  }

  /** True when the configuration leaves the instrumentation on (the one rule, `isInstrumentationEnabled`). */
  isEnabled(name: string): boolean {
    const config = this.active?.config;
    return config !== undefined && isInstrumentationEnabled(config, name);
  }

  /**
   * Runs every matching instrumentation on a module that just loaded and returns what the app
   * should get: the same exports (patched in place), a replacement, or, when anything failed,
   * the untouched module. Never throws.
   */
  onLoad(mod: LoadedModule, exports: unknown): unknown {
    const candidates = this.byModule.get(mod.name);
    if (candidates === undefined || exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
    let current = exports as object;
    for (const entry of candidates) {
      if (this.disabled.has(entry.name)) continue;
      const run = this.run(entry);
      if (run === null) continue;
      for (const target of entry.modules) {
        if (target.reportOnly === true || stripNodePrefix(target.name) !== mod.name) continue;
        if ((target.file ? normalizeSubpath(target.file) : '') !== mod.subpath) continue;
        current = this.apply(entry, run, target, mod, current);
        if (this.disabled.has(entry.name)) break;
      }
    }
    return current;
  }

  /** Takes back everything every instrumentation wrapped and subscribed (for shutdown). */
  stopAll(): void {
    for (const remove of [...this.waitingSubscribers.values()]) remove();
    for (const run of this.runs.values()) {
      try {
        run.undo();
      } catch (err) {
        log.debug(`instrumentation "${run.name}" failed to stop: ${describeError(err)}`);
      }
    }
  }

  private index(entry: RegistryEntry): HookTarget[] {
    const added: HookTarget[] = [];
    if (!patches(entry)) return added;
    for (const m of entry.modules) {
      if (m.reportOnly === true) continue;
      const target: HookTarget = parseModuleKey(moduleKey(m));
      if (typeof m.esModule === 'boolean') target.esModule = m.esModule;
      let list = this.byModule.get(target.name);
      if (list === undefined) this.byModule.set(target.name, (list = []));
      if (!list.includes(entry)) list.push(entry);
      const targetKey = `${target.name}\0${target.subpath}`;
      if (!this.targetKeys.has(targetKey)) {
        this.targetKeys.add(targetKey);
        this.targets.push(target);
        added.push(target);
        if (target.subpath !== '') this.fileTargets++;
      }
    }
    return added;
  }

  /** The instrumentation's run (its code loaded, options read), or null when it could not load. */
  private run(entry: RegistryEntry): InstrumentationRun<any> | null {
    const existing = this.runs.get(entry.name);
    if (existing !== undefined) return existing;
    if (this.codes.has(entry.name)) return null;
    let code: InstrumentationCode<any> | null = null;
    try {
      // The kit and the tracer first: an instrumentation's code loads the instrumentation API (the tracer core).
      const kit = require('./kit.js') as typeof import('./kit.js');
      const runtime = this.runtimeNow(kit);
      const loaded = entry.load();
      if (loaded === null || typeof loaded !== 'object') throw new TypeError('it does not export an instrumentation');
      if (patches(entry) && typeof loaded.patch !== 'function') throw new TypeError(`it is declared "${entry.kind}" but has no patch(exports, ctx)`);
      if (subscribes(entry) && typeof loaded.start !== 'function') throw new TypeError(`it is declared "${entry.kind}" but has no start(ctx)`);
      code = loaded;
      const run = new kit.InstrumentationRun(entry.name, loaded, runtime, kit.optionsSectionOf(runtime.config, entry.name), (message) => this.disable(entry.name, message));
      this.codes.set(entry.name, code);
      this.runs.set(entry.name, run);
      return run;
    } catch (err) {
      this.codes.set(entry.name, null);
      this.disabled.add(entry.name);
      log.warnOnce(`instrumentation:${entry.name}`, `instrumentation "${entry.name}" could not be loaded and is disabled: ${describeError(err)}`);
      return null;
    }
  }

  private apply(entry: RegistryEntry, run: InstrumentationRun<any>, target: ModuleTarget, mod: LoadedModule, exports: object): object {
    if (!this.inRange(entry.name, target, mod)) return exports;
    const key = `${entry.name}\0${target.file ?? ''}`;
    let done = this.applied.get(exports);
    if (done?.has(key)) return done.get(key) as object;
    if (done === undefined) this.applied.set(exports, (done = new Map()));
    // Marked before patching: a patch that loads the same module again must not recurse.
    done.set(key, exports);
    try {
      const result = run.code.patch!(exports, run.context(mod.version), target);
      const patched = result !== null && (typeof result === 'object' || typeof result === 'function') ? result : exports;
      done.set(key, patched);
      if (patched !== exports) this.applied.set(patched, done);
      if (!mod.builtin && !this.packagePatched) this.notePackagePatched();
      log.debug(`patched ${mod.name}${mod.subpath ? `/${mod.subpath}` : ''}@${mod.version} with "${entry.name}"`);
      return patched;
    } catch (err) {
      this.disable(entry.name, `instrumentation "${entry.name}" failed on ${mod.name}@${mod.version} and is disabled; the app gets the module untouched: ${describeError(err)}`);
      return exports;
    }
  }

  /** The first package patched: the start-path caches should hold the code that did it (./code-cache.ts, PACKAGE_PATCH). */
  private notePackagePatched(): void {
    this.packagePatched = true;
    try {
      (require('./code-cache.js') as typeof import('./code-cache.js')).packagePatched();
    } catch (err) {
      log.debug(`code cache: ${describeError(err)}`);
    }
  }

  /** The runtime every instrumentation gets, built (with the tracer, when it was given as a function) at the first. */
  private runtimeNow(kit: typeof import('./kit.js')): AgentRuntime & { config: Readonly<Config> } {
    if (this.runtime !== null) return this.runtime;
    const { config, tracer, emitLog } = this.active!;
    this.runtime = { config, ...kit.agentRuntime(config, typeof tracer === 'function' ? tracer() : tracer, emitLog) };
    return this.runtime;
  }

  private inRange(name: string, target: ModuleTarget, mod: LoadedModule): boolean {
    // Built-ins are patched at start (hooks-esm.ts) and claim every version: no need to load semver then.
    if (target.versions === '*' && mod.version !== '') return true;
    let ok = mod.version !== '' ? satisfiesSimpleRange(mod.version, target.versions) : false;
    if (ok === null) {
      // Required here, not at the top: semver is needed only for a range or version the check above cannot read.
      const satisfies = require('semver/functions/satisfies') as (v: string, r: string, o: object) => boolean;
      try {
        ok = satisfies(mod.version, target.versions, { includePrerelease: true });
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      const skipKey = `${name}\0${mod.name}\0${mod.version}`;
      if (!this.reportedSkips.has(skipKey)) {
        this.reportedSkips.add(skipKey);
        log.debug(`skipping "${name}" for ${mod.name}@${mod.version || 'unknown version'}: supports ${target.versions}`);
      }
    }
    return ok;
  }

  private startSubscriber(entry: RegistryEntry): void {
    if (entry.channels !== undefined && entry.channels.length > 0) this.startOnFirstMessage(entry, entry.channels);
    else this.startNow(entry);
  }

  private startNow(entry: RegistryEntry): InstrumentationRun<any> | null {
    const run = this.run(entry);
    if (run === null || this.disabled.has(entry.name)) return null;
    try {
      run.code.start!(run.context(''));
      return run;
    } catch (err) {
      this.disable(entry.name, `instrumentation "${entry.name}" failed to start and is disabled: ${describeError(err)}`);
      return null;
    }
  }

  /**
   * Subscribes a stand-in to the declared channels; the first message loads the instrumentation, starts
   * it and hands it that message (Node's publish goes on with the subscribers it had, so the new ones
   * would miss it). The stand-ins are removed then, or by `stopAll`/`disable`.
   */
  private startOnFirstMessage(entry: RegistryEntry, channels: readonly string[]): void {
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    let pending = true;
    const remove = (): void => {
      pending = false;
      this.waitingSubscribers.delete(entry.name);
      for (const channel of channels) dc.unsubscribe(channel, firstMessage);
    };
    const firstMessage = (message: unknown, name: string | symbol): void => {
      if (!pending) return;
      try {
        remove();
        if (this.disabled.has(entry.name)) return;
        this.startNow(entry)?.deliver(String(name), message, name);
      } catch (err) {
        log.warnOnce(`instrumentation:${entry.name}`, `instrumentation "${entry.name}" failed to start and is disabled: ${describeError(err)}`);
      }
    };
    for (const channel of channels) dc.subscribe(channel, firstMessage);
    this.waitingSubscribers.set(entry.name, remove);
  }

  // A failing instrumentation is switched off everywhere, not only on the module that failed:
  // half an instrumentation (server spans without client spans) is worse than none.
  private disable(name: string, message: string): void {
    this.disabled.add(name);
    this.waitingSubscribers.get(name)?.();
    log.warnOnce(`instrumentation:${name}`, message);
    this.runs.get(name)?.undo();
    for (const listener of this.disableListeners) {
      try {
        listener();
      } catch (err) {
        log.debug(`refresh after disabling "${name}" failed: ${describeError(err)}`);
      }
    }
  }
}

/** The process's registry (the one piece of global state besides the global tracer). */
export const registry = new InstrumentationRegistry();
