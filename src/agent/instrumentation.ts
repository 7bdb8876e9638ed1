import type { Tracer } from '../api/tracer.js';
import type { Logger } from '../util/log.js';

/** A module an instrumentation patches, and the versions it supports (a `semver` range). */
export interface ModuleTarget {
  /** The package name (`express`) or built-in (`http`, matched with and without `node:`). */
  name: string;
  /** A `semver` range; built-ins are matched against the running Node version. */
  versions: string;
  /** A file inside the package to patch instead of its main entry (e.g. `lib/router/layer.js`). */
  file?: string;
}

/** What `patch`/`unpatch` receive: everything an instrumentation may use, nothing else. */
export interface InstrumentationContext {
  tracer: Tracer;
  /** This instrumentation's options from the config file (`{}` when none). */
  config: Readonly<Record<string, unknown>>;
  log: Logger;
  /** Replaces `target[name]` with `wrapper(original)`, keeping `name` and `length`; once per function. */
  wrap<T extends object, K extends keyof T>(target: T, name: K, wrapper: (original: T[K]) => T[K]): void;
  /** Restores what `wrap` replaced. */
  unwrap<T extends object, K extends keyof T>(target: T, name: K): void;
  /** The version of the module being patched ('' when unknown). */
  moduleVersion: string;
}

/** One instrumentation: declared in one file, loaded lazily, patched by the loader. */
export interface Instrumentation {
  /** The key users opt out with (`TRACING_DISABLED_INSTRUMENTATIONS=koa`). */
  name: string;
  modules: readonly ModuleTarget[];
  /** Patches the module's exports in place (or returns a replacement). Runs inside a guard. */
  patch(exports: any, ctx: InstrumentationContext, target: ModuleTarget): unknown;
  unpatch?(exports: any, ctx: InstrumentationContext, target: ModuleTarget): void;
  /** For instrumentations driven by diagnostics_channel: subscribe once when the agent starts. */
  start?(ctx: InstrumentationContext): void;
  stop?(): void;
}

/** Identity helper that gives an instrumentation object its type. */
export function defineInstrumentation(def: Instrumentation): Instrumentation {
  return def;
}
