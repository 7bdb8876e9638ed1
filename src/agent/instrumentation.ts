import type { Tracer } from '../api/tracer.js';
import type { Logger } from '../util/log.js';

/**
 * A module an instrumentation patches, and the versions it supports (a `semver` range).
 *
 * The loader checks the range before `patch` runs: a version outside it is skipped with one
 * debug line, so an instrumentation never sees a version it did not claim.
 */
export interface ModuleTarget {
  /** The package name (`express`) or built-in (`http`; `node:http` is the same module). */
  name: string;
  /** A `semver` range; built-ins are matched against the running Node version. */
  versions: string;
  /**
   * A file inside the package to patch instead of its main entry, relative to the package root
   * (`lib/router/layer.js`). Matched whether the package loads it with `require` or `import`.
   */
  file?: string;
}

/**
 * One record of an app's logger, handed to the logs exporter (`TRACING_LOGS_EXPORTER=otlp`) by a
 * logger instrumentation. Built only when that exporter is on.
 */
export interface LogRecordData {
  /** When the logger stamped the record, in milliseconds since the epoch. */
  timeMs: number;
  /** OpenTelemetry severity number (1 trace … 21 fatal); 0 when the level is unknown. */
  severityNumber: number;
  /** The logger's own name for the level (`info`, `warn`, …). */
  severityText: string;
  /** The message. */
  body: string;
  /** The record's other fields, as the logger would write them (nested values are sent as JSON text). */
  attributes: Readonly<Record<string, unknown>>;
  /** 32 hex of the span active when the record was written; '' outside a trace. */
  traceId: string;
  /** 16 hex; '' outside a trace. */
  spanId: string;
  /** W3C trace-flags byte; 0 outside a trace. */
  traceFlags: number;
  /** The logging library (`pino`), sent as the instrumentation scope. */
  scope: string;
}

/** What a logger instrumentation needs besides the tracer. */
export interface LogsKit {
  /** `TRACING_LOGS_INJECTION`: add `trace_id`, `span_id`, `trace_flags` to records written in a span. */
  injection: boolean;
  /** Queues a record for the logs exporter (bounded, never throws); null when no logs exporter is on. */
  emit: ((record: LogRecordData) => void) | null;
}

/** What `patch`/`unpatch`/`start` receive: everything an instrumentation may use, nothing else. */
export interface InstrumentationContext {
  tracer: Tracer;
  /** This instrumentation's options from the config file (`{}` when none). */
  config: Readonly<Record<string, unknown>>;
  log: Logger;
  /**
   * Replaces `target[name]` with `wrapper(original)`. The installed function keeps the original's
   * `name` and `length`; a function that is already wrapped by the agent is left alone, and a
   * missing or non-function property is skipped (debug line), so `patch` needs no checks of its own.
   * Name the function your wrapper returns `<method>WithTrace` (`createServerWithTrace`).
   * Returns true when it wrapped.
   */
  wrap<T extends object, K extends keyof T>(target: T, name: K, wrapper: (original: T[K]) => T[K]): boolean;
  /** Restores what `wrap` replaced (only if nobody wrapped on top of it since). */
  unwrap<T extends object, K extends keyof T>(target: T, name: K): void;
  /**
   * Subscribes to a `diagnostics_channel` inside a guard. Node turns a subscriber's throw into an
   * uncaught exception that ends the app; here it is caught instead, logged once, and the whole
   * instrumentation is disabled (its subscriptions and wraps undone). Always provided by the loader
   * (optional only so hand-made contexts in tests need not supply it).
   */
  subscribe?(channel: string, onMessage: (message: unknown, name: string | symbol) => void): void;
  /**
   * The agent's clock: milliseconds since the epoch, sub-millisecond, monotonic (what spans are
   * timed with), for `startTime`/`finish(time)` of spans whose start is known only afterwards.
   * Always provided by the loader (optional only so hand-made contexts in tests need not supply it).
   */
  now?(): number;
  /** The version of the module being patched ('' in `start`, where no module is involved). */
  moduleVersion: string;
  /** For logger instrumentations (always provided by the loader; optional for hand-made test contexts). */
  logs?: LogsKit;
}

/**
 * One instrumentation: declared in one file, loaded lazily, patched by the loader.
 *
 * The loader calls `patch` once per loaded instance of each module in `modules` whose version is
 * in range, always with the plain module (what `require` returns; for an ES-module-only package,
 * its namespace), inside a guard: if `patch` throws, every `wrap` it made is undone, the
 * instrumentation is disabled for the rest of the process, and one warning is logged.
 */
export interface Instrumentation {
  /** The key users opt out with (`TRACING_DISABLED_INSTRUMENTATIONS=koa`). */
  name: string;
  modules: readonly ModuleTarget[];
  /**
   * Patches the module's exports in place. Returning a different object replaces the module for
   * `require` and for ES-module default imports (rarely needed; patching in place is preferred).
   */
  patch(exports: any, ctx: InstrumentationContext, target: ModuleTarget): unknown;
  unpatch?(exports: any, ctx: InstrumentationContext, target: ModuleTarget): void;
  /**
   * For instrumentations driven by `diagnostics_channel`: subscribe here. Called once when the agent
   * starts, for entries declared with `subscribes: true` in the registry (see `InstrumentationEntry`).
   */
  start?(ctx: InstrumentationContext): void;
  /** Undoes `start` (unsubscribes). */
  stop?(): void;
}

/**
 * A line in the lazy registry (`instrumentations/index.ts`): enough to set up the hooks without
 * loading the instrumentation's code, which is only required when one of `modules` loads.
 */
export interface InstrumentationEntry {
  /** Must equal the loaded instrumentation's `name`. */
  name: string;
  /** The module names the instrumentation declares in its `modules` (the loader hooks these). */
  modules: readonly string[];
  /** Returns the instrumentation; called at most once, synchronously, when it is first needed. */
  load: () => Instrumentation;
  /** Load at start-up and call `start()` (a `diagnostics_channel` subscriber needs no module load). */
  subscribes?: boolean;
}

/** Identity helper that gives an instrumentation object its type. */
export function defineInstrumentation(def: Instrumentation): Instrumentation {
  return def;
}
