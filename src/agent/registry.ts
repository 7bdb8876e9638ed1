import type { Tracer } from '../api/tracer.js';
import type { Config } from '../config/types.js';
import { nowMs } from '../util/clock.js';
import { describeError, log } from '../util/log.js';
import type { Instrumentation, InstrumentationContext, InstrumentationEntry, LogRecordData, ModuleTarget } from './instrumentation.js';
import { normalizeSubpath, stripNodePrefix, type LoadedModule } from './module-info.js';
import { unwrapMethod, wrapMethod, type WrapRecord } from './wrap.js';

/** A module (or a file inside a package) the hooks must watch. */
export interface HookTarget {
  /** Package or built-in name, without `node:`. */
  name: string;
  /** Normalized file inside the package; '' for its entry. */
  subpath: string;
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

/**
 * The one registry both hooks (require and import) feed. Knows which instrumentations exist and are
 * enabled, loads each lazily, checks versions, and patches each module instance once, in a guard.
 */
export class InstrumentationRegistry {
  private readonly entries = new Map<string, InstrumentationEntry>();
  private readonly byModule = new Map<string, InstrumentationEntry[]>();
  private readonly targets: HookTarget[] = [];
  private readonly targetKeys = new Set<string>();
  private fileTargets = 0;
  private readonly definitions = new Map<string, Instrumentation | null>();
  private readonly disabled = new Set<string>();
  private readonly wraps = new Map<string, WrapRecord[]>();
  private readonly subscriptions = new Map<string, Array<{ channel: string; fn: (message: unknown, name: string | symbol) => void }>>();
  private readonly started: Instrumentation[] = [];
  // Module instance (its exports object) → instrumentation/target key → what patching returned.
  private readonly applied = new WeakMap<object, Map<string, unknown>>();
  private readonly reportedSkips = new Set<string>();
  private active: { tracer: Tracer; config: Readonly<Config>; emitLog: ((record: LogRecordData) => void) | null } | null = null;
  private listener: TargetsListener | null = null;
  private readonly disableListeners: Array<() => void> = [];

  /**
   * Adds an instrumentation. Before `activate` it is only remembered; after, it is hooked at once
   * (when enabled) and the promise resolves when the hooks will see its modules.
   */
  add(entry: InstrumentationEntry): Promise<void> {
    if (this.entries.has(entry.name)) {
      log.warnOnce(`duplicate:${entry.name}`, `instrumentation "${entry.name}" is registered twice; the first one is kept`);
      return Promise.resolve();
    }
    this.entries.set(entry.name, entry);
    if (this.active === null || !this.isEnabled(entry.name)) return Promise.resolve();
    const added = this.index(entry);
    if (entry.subscribes) this.startSubscriber(entry);
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
   * one is on); returns the targets to hook.
   */
  activate(config: Readonly<Config>, tracer: Tracer, emitLog: ((record: LogRecordData) => void) | null = null): readonly HookTarget[] {
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
      if (entry.subscribes && this.isEnabled(entry.name)) this.startSubscriber(entry);
    }
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

  /** Everything the hooks watch now. */
  hookTargets(): readonly HookTarget[] {
    return this.targets;
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

  /** True when the configuration leaves the instrumentation on. */
  isEnabled(name: string): boolean {
    const config = this.active?.config;
    if (!config) return false;
    if (config.instrumentations[name] === false) return false;
    if (config.disabledInstrumentations.includes(name)) return false;
    return config.enabledInstrumentations === null || config.enabledInstrumentations.includes(name);
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
      const def = this.definition(entry);
      if (def === null) continue;
      for (const target of def.modules) {
        if (stripNodePrefix(target.name) !== mod.name) continue;
        if ((target.file ? normalizeSubpath(target.file) : '') !== mod.subpath) continue;
        current = this.apply(def, target, mod, current);
        if (this.disabled.has(def.name)) break;
      }
    }
    return current;
  }

  /** Calls `stop()` of every started subscriber (for shutdown). */
  stopAll(): void {
    for (const def of this.started.splice(0)) {
      try {
        def.stop?.();
      } catch (err) {
        log.debug(`instrumentation "${def.name}" failed to stop: ${describeError(err)}`);
      }
    }
  }

  private index(entry: InstrumentationEntry): HookTarget[] {
    const added: HookTarget[] = [];
    for (const key of entry.modules) {
      const target = parseModuleKey(key);
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

  private definition(entry: InstrumentationEntry): Instrumentation | null {
    let def = this.definitions.get(entry.name);
    if (def !== undefined) return def;
    try {
      def = entry.load();
      if (def === null || typeof def !== 'object' || typeof def.patch !== 'function' || !Array.isArray(def.modules)) {
        throw new TypeError('it does not export an instrumentation (name, modules, patch)');
      }
    } catch (err) {
      def = null;
      this.disabled.add(entry.name);
      log.warnOnce(`instrumentation:${entry.name}`, `instrumentation "${entry.name}" could not be loaded and is disabled: ${describeError(err)}`);
    }
    this.definitions.set(entry.name, def);
    return def;
  }

  private apply(def: Instrumentation, target: ModuleTarget, mod: LoadedModule, exports: object): object {
    if (!this.inRange(def, target, mod)) return exports;
    const key = `${def.name}\0${target.file ?? ''}`;
    let done = this.applied.get(exports);
    if (done?.has(key)) return done.get(key) as object;
    if (done === undefined) this.applied.set(exports, (done = new Map()));
    // Marked before patching: a patch that loads the same module again must not recurse.
    done.set(key, exports);
    const record: WrapRecord[] = [];
    try {
      const result = def.patch(exports, this.context(def, mod.version, record), target);
      const patched = result !== null && (typeof result === 'object' || typeof result === 'function') ? result : exports;
      done.set(key, patched);
      if (patched !== exports) this.applied.set(patched, done);
      this.remember(def.name, record);
      log.debug(`patched ${mod.name}${mod.subpath ? `/${mod.subpath}` : ''}@${mod.version} with "${def.name}"`);
      return patched;
    } catch (err) {
      undo(record);
      this.disable(def, `instrumentation "${def.name}" failed on ${mod.name}@${mod.version} and is disabled; the app gets the module untouched: ${describeError(err)}`);
      return exports;
    }
  }

  private inRange(def: Instrumentation, target: ModuleTarget, mod: LoadedModule): boolean {
    // Required here, not at the top: semver is only needed once a watched module loads.
    const satisfies = require('semver/functions/satisfies') as (v: string, r: string, o: object) => boolean;
    let ok = false;
    try {
      ok = mod.version !== '' && satisfies(mod.version, target.versions, { includePrerelease: true });
    } catch {
      ok = false;
    }
    if (!ok) {
      const skipKey = `${def.name}\0${mod.name}\0${mod.version}`;
      if (!this.reportedSkips.has(skipKey)) {
        this.reportedSkips.add(skipKey);
        log.debug(`skipping "${def.name}" for ${mod.name}@${mod.version || 'unknown version'}: supports ${target.versions}`);
      }
    }
    return ok;
  }

  private context(def: Instrumentation, moduleVersion: string, record: WrapRecord[]): InstrumentationContext {
    const { tracer, config, emitLog } = this.active!;
    const options = config.instrumentations[def.name];
    return {
      tracer,
      // Settings every HTTP client instrumentation shares come from the agent's configuration; the
      // instrumentation's own options in the config file override them.
      config: {
        peerServices: config.peerServices,
        sensitiveQueryParams: config.redactQueryParams,
        dbStatement: config.dbStatement,
        dbRootSpans: config.dbRootSpans,
        ...(options === false || options === undefined ? {} : options) },
      log,
      wrap: (target, name, wrapper) => wrapMethod(target, name, wrapper, record),
      unwrap: (target, name) => unwrapMethod(target, name),
      subscribe: (channel, onMessage) => this.subscribe(def, channel, onMessage),
      now: nowMs,
      moduleVersion,
      logs: { injection: config.logs.injection, emit: emitLog },
    };
  }

  private subscribe(def: Instrumentation, channel: string, onMessage: (message: unknown, name: string | symbol) => void): void {
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    const registry = this;
    const guarded = function subscriberWithGuard(message: unknown, name: string | symbol): void {
      try {
        onMessage(message, name);
      } catch (err) {
        registry.disable(def, `instrumentation "${def.name}" failed in its ${channel} subscriber and is disabled: ${describeError(err)}`);
      }
    };
    dc.subscribe(channel, guarded);
    let list = this.subscriptions.get(def.name);
    if (list === undefined) this.subscriptions.set(def.name, (list = []));
    list.push({ channel, fn: guarded });
  }

  private startSubscriber(entry: InstrumentationEntry): void {
    const def = this.definition(entry);
    if (def === null || typeof def.start !== 'function') return;
    const record: WrapRecord[] = [];
    try {
      def.start(this.context(def, '', record));
      this.remember(def.name, record);
      this.started.push(def);
    } catch (err) {
      undo(record);
      this.disable(def, `instrumentation "${def.name}" failed to start and is disabled: ${describeError(err)}`);
    }
  }

  private remember(name: string, record: WrapRecord[]): void {
    if (record.length === 0) return;
    const all = this.wraps.get(name);
    if (all === undefined) this.wraps.set(name, record);
    else all.push(...record);
  }

  // A failing instrumentation is switched off everywhere, not only on the module that failed:
  // half an instrumentation (server spans without client spans) is worse than none.
  private disable(def: Instrumentation, message: string): void {
    this.disabled.add(def.name);
    log.warnOnce(`instrumentation:${def.name}`, message);
    undo(this.wraps.get(def.name) ?? []);
    this.wraps.delete(def.name);
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    for (const { channel, fn } of this.subscriptions.get(def.name) ?? []) dc.unsubscribe(channel, fn);
    this.subscriptions.delete(def.name);
    for (const listener of this.disableListeners) {
      try {
        listener();
      } catch (err) {
        log.debug(`refresh after disabling "${def.name}" failed: ${describeError(err)}`);
      }
    }
    const at = this.started.indexOf(def);
    if (at !== -1) {
      this.started.splice(at, 1);
      try {
        def.stop?.();
      } catch {
        // Already disabled and reported.
      }
    }
  }
}

function undo(record: WrapRecord[]): void {
  for (let i = record.length - 1; i >= 0; i--) unwrapMethod(record[i]!.target, record[i]!.name);
}

/** The process's registry (the one piece of global state besides the global tracer). */
export const registry = new InstrumentationRegistry();
