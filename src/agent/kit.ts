import type { Span } from '../api/span.js';
import type { SpanContext } from '../api/span-context.js';
import type { Tracer } from '../api/tracer.js';
import type { Config } from '../config/types.js';
import { nowMs } from '../util/clock.js';
import { describeError, guard, log } from '../util/log.js';
import { UrlRedactor } from '../util/redact.js';
import { isTracingSuppressed } from '../util/suppress.js';
import { peerServiceOf, splitHostPort, splitOrigin, writableTags, type AgentSettings, type ClientPeer, type InstrumentationCode, type InstrumentationContext, type LogRecordData, type LogsKit } from './instrumentation.js';
import { unwrapMethod, wrapMethod, type WrapRecord } from './wrap.js';

/*
 * The `ctx` kit behind the instrumentation API, and the one record of what an instrumentation did
 * (every wrap and subscription), which the loader undoes when the instrumentation fails or the
 * agent stops. The loader and the unit tests build contexts the same way: through `InstrumentationRun`.
 */

/** The agent-wide settings, built once from the configuration when the agent starts. */
export function buildAgentSettings(config: Pick<Config, 'peerServices' | 'redactQueryParams' | 'dbStatement' | 'dbRootSpans' | 'messagingRootSpans'>): AgentSettings {
  const peerServices = config.peerServices;
  return {
    peerServices,
    hasPeerServices: Object.keys(peerServices).length > 0,
    urlRedactor: new UrlRedactor(config.redactQueryParams),
    dbStatement: config.dbStatement,
    dbRootSpans: config.dbRootSpans,
    messagingRootSpans: config.messagingRootSpans,
    redactorFor: (params) => new UrlRedactor(params),
  };
}

/** What the agent hands every instrumentation: its tracer and the settings built at start. */
export interface AgentRuntime {
  tracer: Tracer;
  settings: AgentSettings;
  /** Logs injection and the logs exporter's queue; default: injection on, no exporter. */
  logs?: LogsKit;
}

const NO_LOGS_EXPORT: LogsKit = { injection: true, emit: null };

/** The runtime the loader hands every instrumentation, from the agent's configuration. */
export function agentRuntime(config: Readonly<Config>, tracer: Tracer, emitLog: ((record: LogRecordData) => void) | null = null): AgentRuntime {
  return { tracer, settings: buildAgentSettings(config), logs: { injection: config.logs.injection, emit: emitLog } };
}

/** The instrumentation's section of the `TRACING_CONFIG` file: its raw options (`"koa": false` has none). */
export function optionsSectionOf(config: Readonly<Config>, name: string): Readonly<Record<string, unknown>> {
  const raw = config.instrumentations[name];
  return raw === false || raw === undefined ? {} : raw;
}

/**
 * One instrumentation switched on in this process: its code, its options (read once), and the
 * record of everything it wrapped and subscribed. `context()` builds the `ctx` its `patch` and
 * `start` receive; `undo()` takes everything back.
 */
export class InstrumentationRun<O = Readonly<Record<string, unknown>>> {
  readonly options: O;
  /** `peer.service` names: the instrumentation's own `peerServices` section overrides the agent-wide ones. */
  private readonly peerServices: Readonly<Record<string, string>>;
  private readonly wraps: WrapRecord[] = [];
  private readonly subscriptions: Array<{ channel: string; fn: (message: unknown, name: string | symbol) => void }> = [];
  private failed = false;

  /**
   * @param onFailure called once when a subscriber throws (the loader disables the instrumentation);
   *   by default the run undoes itself.
   */
  constructor(
    readonly name: string,
    readonly code: InstrumentationCode<O>,
    private readonly runtime: AgentRuntime,
    rawOptions: Readonly<Record<string, unknown>> = {},
    private readonly onFailure: (message: string) => void = (message) => {
      log.warnOnce(`instrumentation:${name}`, message);
      this.undo();
    },
  ) {
    this.options = typeof code.options === 'function' ? code.options(rawOptions, runtime.settings) : (rawOptions as O);
    const own = rawOptions.peerServices;
    this.peerServices = own !== null && typeof own === 'object' ? (own as Readonly<Record<string, string>>) : runtime.settings.peerServices;
  }

  /** True once a subscriber of this instrumentation threw. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** The `ctx` for one `patch` (of a module at `moduleVersion`) or for `start` (''). */
  context(moduleVersion: string): InstrumentationContext<O> {
    const { tracer, settings } = this.runtime;
    const services = this.peerServices;
    const hasServices = services === settings.peerServices ? settings.hasPeerServices : Object.keys(services).length > 0;
    return {
      tracer,
      options: this.options,
      settings,
      log,
      moduleVersion,
      now: nowMs,
      logs: this.runtime.logs ?? NO_LOGS_EXPORT,
      wrap: (target, name, wrapper, options) => wrapMethod(target, name, wrapper, this.wraps, options),
      subscribe: (channel, onMessage) => this.subscribe(channel, onMessage),
      guard,
      isSuppressed: isTracingSuppressed,
      startClientSpan(operation: string, peer: ClientPeer, parent?: Span | SpanContext | null): Span {
        const span = parent === undefined
          ? tracer.startSpan(operation)
          : parent === null ? tracer.startSpan(operation, { ignoreActiveSpan: true }) : tracer.startSpan(operation, { childOf: parent });
        const tags = writableTags(span);
        if (tags === null) return span;
        tags['span.kind'] = 'client';
        tags.component = peer.component;
        let { hostname, port } = peer;
        if (hostname === undefined) {
          // Split only now that the span records: unsampled and suppressed calls never parse their peer.
          const split = peer.authority !== undefined ? splitHostPort(peer.authority, peer.defaultPort ?? NaN)
            : peer.origin !== undefined ? splitOrigin(peer.origin) : null;
          if (split !== null) {
            hostname = split.hostname;
            port = split.port;
          }
        }
        if (hostname !== undefined && hostname !== '') tags['peer.hostname'] = hostname;
        if (port !== undefined && Number.isFinite(port)) tags['peer.port'] = port;
        if (hasServices && hostname !== undefined && hostname !== '') {
          const service = peerServiceOf(services, hostname, port);
          if (service !== undefined) tags['peer.service'] = service;
        }
        return span;
      },
      peerServiceOf: (hostname, port) => (hasServices ? peerServiceOf(services, hostname, port) : undefined),
      splitHostPort,
      writableTags,
    };
  }

  /** Takes back every wrap (newest first) and subscription this instrumentation made. */
  undo(): void {
    for (let i = this.wraps.length - 1; i >= 0; i--) unwrapMethod(this.wraps[i]!.target, this.wraps[i]!.name);
    this.wraps.length = 0;
    if (this.subscriptions.length === 0) return;
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    for (const { channel, fn } of this.subscriptions.splice(0)) dc.unsubscribe(channel, fn);
  }

  /** Hands `message` to this instrumentation's own subscribers of `channel` (one published before they were). */
  deliver(channel: string, message: unknown, name: string | symbol): void {
    for (const s of [...this.subscriptions]) if (s.channel === channel) s.fn(message, name);
  }

  private subscribe(channel: string, onMessage: (message: unknown, name: string | symbol) => void): void {
    const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
    const run = this;
    const guarded = function subscriberWithGuard(message: unknown, name: string | symbol): void {
      try {
        onMessage(message, name);
      } catch (err) {
        if (run.failed) return;
        run.failed = true;
        run.onFailure(`instrumentation "${run.name}" failed in its ${channel} subscriber and is disabled: ${describeError(err)}`);
      }
    };
    dc.subscribe(channel, guarded);
    this.subscriptions.push({ channel, fn: guarded });
  }
}
