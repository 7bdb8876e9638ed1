import type { PresetTags, Span, TagValue, Tags as TagMap } from '../api/span.js';
import { Span as SpanClass } from '../api/span.js';
import type { SpanContext as SpanContextType } from '../api/span-context.js';
import type { Tracer } from '../api/tracer.js';
import type { DbStatementMode } from '../config/types.js';
import type { Logger } from '../util/log.js';
import type { UrlRedactor } from '../util/redact.js';

/*
 * The instrumentation API: the one module of src/ that code under instrumentations/ may import
 * (test/unit/agent/instrumentation-imports.test.ts fails otherwise). Everything an instrumentation
 * uses comes from here or from `ctx`; see docs/architecture.md, "Adding an instrumentation".
 *
 * An instrumentation is two things:
 * - its declaration, one line in instrumentations/index.ts: name, modules (with version ranges and
 *   `file` paths) and kind. The loader's hooks, the names configuration accepts and the `config`
 *   command's table are all derived from these lines, without loading any instrumentation code;
 * - its code, one file (`export default defineInstrumentation({ patch(exports, ctx) {...} })`),
 *   loaded only when one of its modules loads (or at start, for a `subscribe` instrumentation).
 */

import { recordError as recordErrorValue } from '../api/span.js';
import { Tags as TagsValue } from '../api/tags.js';
import { FORMAT_HTTP_HEADERS as HTTP_HEADERS_FORMAT, FORMAT_TEXT_MAP as TEXT_MAP_FORMAT } from '../api/formats.js';
import { describeError as describeErrorValue, guard as guardValue, log as logValue } from '../util/log.js';
import { isTracingSuppressed as isTracingSuppressedValue, suppressTracing as suppressTracingValue } from '../util/suppress.js';
import {
  SpanContext as SpanContextClass,
  FLAG_SAMPLED as SAMPLED_FLAG,
  createBaggage as createBaggageValue,
  getBaggageProperties as getBaggagePropertiesValue,
  setBaggageProperties as setBaggagePropertiesValue,
} from '../api/span-context.js';
import { defaultGetter as defaultGetterValue } from '../api/carrier.js';
import { nowMs as nowMsValue } from '../util/clock.js';
import { EMITTER_SCOPE as EMITTER_SCOPE_KEY, canReenter as canReenterValue, listenersMayRun as listenersMayRunValue, makeScopedEmitWrapper as makeScopedEmitWrapperValue } from '../scope/emitter-scope.js';
import { scopeAttachments as scopeAttachmentsValue } from '../scope/async-local.js';

/*
 * Why `export const X = imported` rather than `export { X } from`: compiled to CommonJS, a
 * re-export is a getter on this module's exports object (a live binding), and defining getters
 * over the data properties TypeScript declares first turns the object into a dictionary. Every
 * `X` an instrumentation reads on a request (`canReenter`, `EMITTER_SCOPE`, `recordError`... on
 * every server request) was then a getter call through V8's generic load IC, which optimised code
 * cannot inline: ~0.8 k instructions of a plain http request on Node 20. These values never
 * change, so plain data properties lose nothing (test/unit/agent/instrumentation-exports.test.ts).
 */
export type { Span, TagValue, Tags as TagMap, LogRecord, PresetTags, PresetShape } from '../api/span.js';
export const recordError = recordErrorValue;
export type { Tracer } from '../api/tracer.js';
export const Tags = TagsValue;
export const FORMAT_HTTP_HEADERS = HTTP_HEADERS_FORMAT;
export const FORMAT_TEXT_MAP = TEXT_MAP_FORMAT;
export type { CarrierGetter, CarrierSetter } from '../api/carrier.js';
export type { DbStatementMode } from '../config/types.js';
export type { Logger } from '../util/log.js';
export type { UrlRedactor } from '../util/redact.js';
import type { WrapOptions } from './wrap.js';
export type { WrapOptions } from './wrap.js';
// The same as `ctx.log`, `ctx.guard` and `ctx.isSuppressed`, for shared module-level listeners
// (one function for every request, no closure per call) that have no `ctx` at hand.
export const describeError = describeErrorValue;
export const guard = guardValue;
export const log = logValue;
export const isTracingSuppressed = isTracingSuppressedValue;
// For bridges to other tracing APIs (instrumentations/opentelemetry): contexts made from foreign
// ones, baggage records, suppression entered from outside, the agent's clock.
export type { SpanExtras, SpanLinkRecord } from '../api/span.js';
export const SpanContext = SpanContextClass;
export type SpanContext = SpanContextClass;
export const FLAG_SAMPLED = SAMPLED_FLAG;
export const createBaggage = createBaggageValue;
export const getBaggageProperties = getBaggagePropertiesValue;
export const setBaggageProperties = setBaggagePropertiesValue;
export type { Baggage } from '../api/span-context.js';
export const suppressTracing = suppressTracingValue;
export const defaultGetter = defaultGetterValue;
export const nowMs = nowMsValue;
// Context continuity for emitters whose events fire on later ticks (a request's body, a response).
export type { Scope, ScopeManager } from '../api/scope-manager.js';
export const EMITTER_SCOPE: typeof EMITTER_SCOPE_KEY = EMITTER_SCOPE_KEY;
export const canReenter = canReenterValue;
export const makeScopedEmitWrapper = makeScopedEmitWrapperValue;
export const listenersMayRun = listenersMayRunValue;
export type { ScopedEmitter } from '../scope/emitter-scope.js';
// For a bridge to another context API: its record kept beside the active span in the agent's one store.
export const scopeAttachments = scopeAttachmentsValue;
export type { ScopeAttachments } from '../scope/async-local.js';

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
  /**
   * Listed by the `config` command but never hooked: a global of Node (`fetch`), or a package traced
   * through another one (`@koa/router` through `koa`).
   */
  reportOnly?: boolean;
  /**
   * Whether `import` of this target gets ES-module code, which only an ES-module loader hook can patch
   * (a loader thread on Node 20). Unset (the usual case): read from the installed package — `"type":
   * "module"`, an `import` export, an `.mjs` twin of the file. Set `false` when the package's ES-module
   * entry only re-exports its CommonJS code (koa, pg-pool); set `true` when `patch` returns a
   * replacement for the exports instead of patching them in place.
   */
  esModule?: boolean;
}

/**
 * How an instrumentation gets at its library:
 * - `patch`: the loader hooks `modules` and calls `patch(exports, ctx)` when one loads;
 * - `subscribe`: the library publishes `diagnostics_channel` events; `start(ctx)` subscribes when
 *   the agent starts, and `modules` only tell the `config` command what is covered;
 * - `patch+subscribe`: both (a library that publishes in recent versions only).
 */
export type InstrumentationKind = 'patch' | 'subscribe' | 'patch+subscribe';

/** The facts about one instrumentation, written once: its line in instrumentations/index.ts. */
export interface InstrumentationDeclaration {
  /** The key users opt out with (`TRACING_DISABLED_INSTRUMENTATIONS=koa`, `"koa": false`). */
  name: string;
  modules: readonly ModuleTarget[];
  kind: InstrumentationKind;
  /**
   * Its modules loaded before the agent started are no reason to warn: the instrumentation does not
   * need to see them load (the OpenTelemetry API, loaded first by an OpenTelemetry SDK that then stays
   * in charge).
   */
  quietIfPreloaded?: boolean;
  /**
   * For `subscribe` and `patch+subscribe`: `diagnostics_channel` names whose first message starts it, the
   * channel(s) a traced call publishes on first (undici's `create`, a tracing channel's `start`).
   * When given, its code is not loaded at start: the loader subscribes to these channels, and the first
   * message on any of them loads the code, runs `start` (which subscribes to all it needs) and hands it that
   * message (an app that never makes such a call never loads the instrumentation: less code, and a smaller
   * heap, at start).
   */
  channels?: readonly string[];
}

/** A registry line: the declaration, and how to load the code (called at most once, when needed). */
export interface RegistryEntry extends InstrumentationDeclaration {
  load(): InstrumentationCode<any>;
}

/** Settings every instrumentation shares, built once when the agent starts. */
export interface AgentSettings {
  /** Host or `host:port` → `peer.service` (`TRACING_PEER_SERVICES`). */
  readonly peerServices: Readonly<Record<string, string>>;
  /** False when `peerServices` is empty: lookups are skipped (and their `host:port` string). */
  readonly hasPeerServices: boolean;
  /** Redacts recorded URLs (`TRACING_REDACT_QUERY_PARAMS`). */
  readonly urlRedactor: UrlRedactor;
  /** What `db.statement` holds (`TRACING_DB_STATEMENT`). */
  readonly dbStatement: DbStatementMode;
  /** Whether a database call outside any trace starts one (`TRACING_DB_ROOT_SPANS`). */
  readonly dbRootSpans: boolean;
  /** Whether a message published outside any trace starts one (`TRACING_MESSAGING_ROOT_SPANS`). */
  readonly messagingRootSpans: boolean;
  /** A redactor for another list of parameter names (a per-instrumentation `sensitiveQueryParams`). */
  redactorFor(sensitiveParams: readonly string[]): UrlRedactor;
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

/**
 * The peer of a client span: where the call goes. Give `hostname` (and `port`) when you have them
 * apart; otherwise the raw `authority` (with `defaultPort`) or `origin`, which `startClientSpan`
 * splits only when the span records: an unsampled or suppressed call pays nothing for parsing them.
 */
export interface ClientPeer {
  /** The `component` tag (`http`, `undici`, `pg`). */
  component: string;
  hostname?: string | undefined;
  port?: number | undefined;
  /** `host`, `host:port` or `[v6]:port` as sent (a `Host` header); read when `hostname` is not given. */
  authority?: string | undefined;
  /** The port when `authority` names none (the scheme's: 80, 443). */
  defaultPort?: number | undefined;
  /** `scheme://host:port`, anything after the host ignored; read when neither `hostname` nor `authority` is given. */
  origin?: string | undefined;
}

/**
 * What `patch` and `start` receive: the whole kit an instrumentation may use.
 * `O` is the type of the instrumentation's own options (what its `options` reader returns).
 */
export interface InstrumentationContext<O = Readonly<Record<string, unknown>>> {
  tracer: Tracer;
  /** This instrumentation's options from the `TRACING_CONFIG` file, validated by its `options` reader. */
  options: O;
  /** The agent-wide settings (peer services, URL redactor, statement mode, root spans). */
  settings: AgentSettings;
  log: Logger;
  /** The version of the module being patched ('' in `start`, where no module is involved). */
  moduleVersion: string;
  /**
   * The agent's clock: milliseconds since the epoch, sub-millisecond, monotonic (what spans are
   * timed with), for `startTime`/`finish(time)` of spans whose start is known only afterwards.
   */
  now(): number;
  /** For logger instrumentations: trace-id injection on or off, and the logs exporter's queue. */
  logs: LogsKit;
  /**
   * Replaces `target[name]` with `wrapper(original)`. The installed function keeps the original's
   * `name` and `length`, runs the wrapper's own errors through a guard, and is recorded: the loader
   * undoes it when the instrumentation fails or the agent stops. A function that is already an
   * agent wrapper is left alone, and a missing or non-function property is skipped (debug line), so
   * `patch` needs no checks of its own. Name the function your wrapper returns `<method>WithTrace`.
   * Returns true when it wrapped.
   *
   * `{ ownGuard: true }` installs the wrapper's function itself, without the guard around it: only
   * for wrappers called on every event of every request, whose own code catches all its errors and
   * then calls the original as it is (see the `emit` wrappers of instrumentations/http).
   */
  wrap<T extends object, K extends keyof T>(target: T, name: K, wrapper: (original: T[K]) => T[K], options?: WrapOptions): boolean;
  /**
   * Subscribes to a `diagnostics_channel` inside a guard. Node turns a subscriber's throw into an
   * uncaught exception that ends the app; here it is caught instead, logged once, and the whole
   * instrumentation is disabled (its subscriptions and wraps undone). Recorded and undone like `wrap`.
   */
  subscribe(channel: string, onMessage: (message: unknown, name: string | symbol) => void): void;
  /** Runs `fn`; an error of ours is logged once under `key` and `fallback` returned instead. */
  guard<T>(key: string, fn: () => T, fallback: T): T;
  /** True while the agent does its own work (export): start no span then. Cheap. */
  isSuppressed(): boolean;
  /**
   * Starts a client span for an outgoing call, child of `parent` (or of the active span when
   * `parent` is undefined; a root span when it is null), tagged `span.kind=client`, `component`,
   * `peer.hostname`, `peer.port` and, when configured for that host, `peer.service`. Further tags go
   * through `writableTags(span)`.
   */
  startClientSpan(operation: string, peer: ClientPeer, parent?: Span | SpanContextType | null): Span;
  /**
   * The configured `peer.service` of `hostname:port`, else of `hostname`: from the instrumentation's
   * own `peerServices` (its section of the `TRACING_CONFIG` file) when it sets one, else from
   * `TRACING_PEER_SERVICES`. `startClientSpan` looks it up the same way.
   */
  peerServiceOf(hostname: string, port?: number): string | undefined;
  /** `host:port` or `[v6]:port` → its parts; `defaultPort` when the authority has none. */
  splitHostPort(authority: string, defaultPort: number): { hostname: string; port: number };
  /**
   * The span's tag store for writing a fixed set of tags right after `startSpan` (each write stays
   * monomorphic at its call site, unlike the shared `setTag`), or null when the span records
   * nothing. Values must be tag values (string, number, boolean).
   */
  writableTags(span: Span): Record<string, TagValue> | null;
}

/** The code of an instrumentation: what runs once its modules load (or when the agent starts). */
export interface InstrumentationCode<O = Readonly<Record<string, unknown>>> {
  /**
   * Reads and validates this instrumentation's section of the `TRACING_CONFIG` file (`{}` when none),
   * once; the result is `ctx.options`. Anything malformed should fall back to its default.
   */
  options?(raw: Readonly<Record<string, unknown>>, settings: AgentSettings): O;
  /**
   * Kind `patch`: patches the module's exports in place, called once per loaded instance of each
   * declared module whose version is in range, always with the plain module (what `require` returns;
   * for an ES-module-only package, its namespace), inside a guard: if `patch` throws, everything
   * recorded is undone, the instrumentation is disabled for the rest of the process, and one
   * warning is logged. Returning a different object replaces the module (rarely needed).
   */
  patch?(exports: any, ctx: InstrumentationContext<O>, target: ModuleTarget): unknown;
  /** Kind `subscribe`: called once when the agent starts; subscribe with `ctx.subscribe`. */
  start?(ctx: InstrumentationContext<O>): void;
}


/** An instrumentation declared and written in one object (for `registerInstrumentation`). */
export interface Instrumentation<O = Readonly<Record<string, unknown>>> extends InstrumentationCode<O> {
  name: string;
  modules: readonly ModuleTarget[];
  patch(exports: any, ctx: InstrumentationContext<O>, target: ModuleTarget): unknown;
}

/**
 * Gives an instrumentation its type. A shipped instrumentation's file exports only its code
 * (`export default defineInstrumentation({ patch(exports, ctx) {...} })`), its declaration being its
 * line in instrumentations/index.ts; one of your own for `registerInstrumentation` is declared and
 * written in one object (`{ name, modules, patch }`).
 */
export function defineInstrumentation<O = Readonly<Record<string, unknown>>>(def: Instrumentation<O>): Instrumentation<O>;
export function defineInstrumentation<O = Readonly<Record<string, unknown>>>(code: InstrumentationCode<O>): InstrumentationCode<O>;
export function defineInstrumentation(code: InstrumentationCode<any>): InstrumentationCode<any> {
  return code;
}

/**
 * A span of ours that records nothing and carries `context`: what a bridge makes active for a parent
 * it did not start (a remote or foreign span context), so the agent's own spans become its children.
 */
export function nonRecordingSpan(tracer: Tracer, context: SpanContextType): Span {
  return SpanClass.nonRecording(tracer, context);
}

/** The configured `peer.service` of `hostname:port`, else of `hostname` (also `ctx.peerServiceOf`). */
export function peerServiceOf(services: Readonly<Record<string, string>>, hostname: string, port?: number): string | undefined {
  const byPort = port !== undefined ? services[`${hostname}:${port}`] : undefined;
  if (typeof byPort === 'string') return byPort;
  const byHost = services[hostname];
  return typeof byHost === 'string' ? byHost : undefined;
}

/** `host:port` or `[v6]:port` → its parts; `defaultPort` when the authority has none (also `ctx.splitHostPort`). */
export function splitHostPort(authority: string, defaultPort: number): { hostname: string; port: number } {
  if (authority.startsWith('[') && authority.indexOf(']') !== -1) {
    const end = authority.indexOf(']');
    const port = authority.slice(end + 2);
    return { hostname: authority.slice(1, end), port: port === '' ? defaultPort : Number(port) || defaultPort };
  }
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return { hostname: authority, port: defaultPort };
  return { hostname: authority.slice(0, colon), port: Number(authority.slice(colon + 1)) || defaultPort };
}

/**
 * An origin (`http://[::1]:8080`, anything after the host ignored) → host name and port, the scheme's
 * default port when it names none; null when it is not an origin.
 */
export function splitOrigin(origin: string): { hostname: string; port: number } | null {
  const schemeEnd = origin.indexOf('://');
  if (schemeEnd === -1) return null;
  const defaultPort = origin.startsWith('https') ? 443 : 80;
  const slash = origin.indexOf('/', schemeEnd + 3);
  const authority = slash === -1 ? origin.slice(schemeEnd + 3) : origin.slice(schemeEnd + 3, slash);
  if (authority.startsWith('[') && authority.indexOf(']') === -1) return null;
  return splitHostPort(authority, defaultPort);
}

/**
 * The fast tag setter (also `ctx.writableTags`): the span's tag store, for writing a fixed set of
 * tags right after `startSpan` — each write stays monomorphic at its call site, where the store
 * inside `setTag` is shared by every caller and every key — or null when the span records nothing
 * or is finished. Values written must be tag values (string, number, boolean).
 */
export function writableTags(span: Span): TagMap | null {
  return span._writableTags();
}

/**
 * Gives a span just started the tags its hot path knows at the start, as one array rather than a store (see
 * `PresetTags`); ignored when the span records nothing.
 */
export function presetTags(span: Span, tags: PresetTags): void {
  span._presetTags(tags);
}

/**
 * The array given to `presetTags` while the span still keeps its tags in it, else null (its tags are in its
 * store: something set or read them). Its elements are the caller's to update until then.
 */
export function presetTagsOf(span: Span): PresetTags | null {
  return span._presetTagsNow();
}
