import type { LogLevel } from '../util/log.js';
import type { TagValue } from '../api/span.js';

export type ExporterName = 'otlp' | 'zipkin' | 'console' | 'file' | 'none';
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type SamplerName = 'always_on' | 'always_off' | 'ratio' | 'parent_based' | 'parent_based_ratio';

/** Where finished spans go and how they get there. */
export interface ExportConfig {
  /** One or more exporters (`TRACING_EXPORTER`, comma list); default `['otlp']`. */
  exporters: readonly ExporterName[];
  /** `TRACING_EXPORTER_PROTOCOL`: `http/protobuf` (default), `http/json` or `grpc`. */
  protocol: OtlpProtocol;
  /**
   * OTLP traces URL (`TRACING_ENDPOINT`); default `http://localhost:4318/v1/traces`, or
   * `http://localhost:4317` with the `grpc` protocol (whose calls use only the scheme, host and port).
   */
  endpoint: string;
  /** Zipkin v2 URL (`TRACING_ZIPKIN_ENDPOINT`); default `http://localhost:9411/api/v2/spans`. */
  zipkinEndpoint: string;
  /** Extra request headers for auth (`TRACING_EXPORTER_HEADERS`, `k=v,k2=v2`). Secret: never logged. */
  headers: Readonly<Record<string, string>>;
  /** `TRACING_EXPORTER_COMPRESSION`; default `none`. */
  compression: 'gzip' | 'none';
  /** Per-request timeout (`TRACING_EXPORTER_TIMEOUT_MS`); default 10000. */
  timeoutMs: number;
  /**
   * The longest the process exit waits for the last spans (`TRACING_EXIT_TIMEOUT_MS`); default 500.
   * Within it each batch gets one try; a refused connection or DNS failure ends the flush at once.
   */
  exitTimeoutMs: number;
  /** `TRACING_CONSOLE_FORMAT`: `tree` (default) or `json`. */
  consoleFormat: 'tree' | 'json';
  /** JSON-lines file for the `file` exporter (`TRACING_FILE`); default `traces.jsonl`. */
  file: string;
  /** Bounded queue and batching (`TRACING_BATCH_*`). */
  batch: {
    /** Spans held at most; more are dropped and counted. Default 2048. */
    maxQueueSize: number;
    /** Spans per request at most. Default 512. */
    maxExportBatchSize: number;
    /** How long a span may wait before a batch is sent (ms). Default 1000. */
    scheduledDelayMs: number;
  };
  /** Export span baggage as attributes (`TRACING_EXPORT_BAGGAGE`); default false. */
  exportBaggage: boolean;
}

/** Where log records go besides the app's own output. */
export type LogsExporterName = 'otlp' | 'none';

/** What the logger instrumentations do with the records of pino, winston and bunyan. */
export interface LogsConfig {
  /**
   * Add `trace_id`, `span_id` and `trace_flags` to each record written while a span is active
   * (`TRACING_LOGS_INJECTION`); default true.
   */
  injection: boolean;
  /** `TRACING_LOGS_EXPORTER`: `otlp` also sends the records as OTLP logs; default `none`. */
  exporter: LogsExporterName;
}

/**
 * When the agent hooks ES-module imports (`TRACING_IMPORT_HOOK`): `auto` when an installed, enabled
 * target needs it, `always` at start, `never` not at all (see docs/loader.md).
 */
export type ImportHookMode = 'auto' | 'always' | 'never';

/** What `db.statement` holds on database client spans. */
export type DbStatementMode = 'sanitized' | 'full' | 'off';

/** Which traces are recorded. */
export interface SamplingConfig {
  /** `TRACING_SAMPLER`; default `parent_based`. */
  sampler: SamplerName;
  /** Ratio for `ratio`/`parent_based` roots (`TRACING_SAMPLE_RATE`, 0..1); default 1. */
  rate: number;
  /** Maximum new traces per second (`TRACING_RATE_LIMIT`); 0 means no limit. Default 0. */
  rateLimit: number;
}

/** Everything the agent needs, resolved from `TRACING_*`, `OTEL_*`, the config file and defaults. */
export interface Config {
  /** `TRACING_ENABLED` (or `OTEL_SDK_DISABLED`); default true. */
  enabled: boolean;
  serviceName: string;
  serviceVersion: string;
  environment: string;
  /** `TRACING_TAGS` (`k=v,...`) plus `OTEL_RESOURCE_ATTRIBUTES`: added to the resource. */
  tags: Readonly<Record<string, TagValue>>;
  export: ExportConfig;
  sampling: SamplingConfig;
  /** `TRACING_PROPAGATION` (or `OTEL_PROPAGATORS`): formats in order; default `tracecontext,baggage`. */
  propagation: readonly string[];
  /** Instrumentations switched off by name (`TRACING_DISABLED_INSTRUMENTATIONS`). */
  disabledInstrumentations: readonly string[];
  /** When set, only these are on (`TRACING_ENABLED_INSTRUMENTATIONS`). */
  enabledInstrumentations: readonly string[] | null;
  /**
   * `TRACING_IMPORT_HOOK`: `auto` (default) installs the ES-module import hook (on Node 20 a loader
   * thread) only for an installed target that `import '<package>'` loads as ES-module code, and, where
   * `module.registerHooks` exists, on a deep import of a target's ES-module files; `always` installs it
   * at start (also catching deep imports such as `graphql/index.mjs` on Node 20); `never` installs none.
   */
  importHook: ImportHookMode;
  /** Per-instrumentation options from the `TRACING_CONFIG` file: name → options (or false). */
  instrumentations: Readonly<Record<string, Readonly<Record<string, unknown>> | false>>;
  /** Host → `peer.service` for outgoing calls (`TRACING_PEER_SERVICES`, `host=service,...`). */
  peerServices: Readonly<Record<string, string>>;
  /**
   * Query parameter names (or parts of names, case-insensitive) whose values are replaced by
   * `REDACTED` in recorded URLs (`TRACING_REDACT_QUERY_PARAMS`); default `DEFAULT_SENSITIVE_PARAMS`.
   */
  redactQueryParams: readonly string[];
  /**
   * What database client spans record as `db.statement` (`TRACING_DB_STATEMENT`): `sanitized` (default;
   * SQL literals replaced by `?`, Redis command and key only), `full` (as sent, may contain data), `off`.
   */
  dbStatement: DbStatementMode;
  /** Whether a database call made outside any trace starts a trace of its own (`TRACING_DB_ROOT_SPANS`); default false. */
  dbRootSpans: boolean;
  /** The logger instrumentations (pino, winston, bunyan). */
  logs: LogsConfig;
  /** Whether a message published outside any trace starts a trace of its own (`TRACING_MESSAGING_ROOT_SPANS`); default false. */
  messagingRootSpans: boolean;
  logLevel: LogLevel;
}
