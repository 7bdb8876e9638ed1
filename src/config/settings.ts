import type { LogLevel } from '../util/log.js';
import { PROPAGATOR_NAMES } from '../propagation/names.js';
import { INSTRUMENTATION_NAMES } from './instrumentation-names.js';
import {
  booleanParser,
  enumParser,
  headerKey,
  hostKey,
  mapParser,
  nameListParser,
  numberParser,
  textParser,
  urlParser,
  type Parsed,
  type Parser,
} from './parse.js';
import type { Config, DbStatementMode, ExporterName, ImportHookMode, LogsExporterName, OtlpProtocol, SamplerName } from './types.js';

const DB_STATEMENT_MODES: readonly DbStatementMode[] = ['sanitized', 'full', 'off'];
const LOGS_EXPORTERS: readonly LogsExporterName[] = ['otlp', 'none'];
const IMPORT_HOOK_MODES: readonly ImportHookMode[] = ['auto', 'always', 'never'];

/**
 * The table of every setting: its `TRACING_*` variable, its key in the `TRACING_CONFIG` file, its
 * `OTEL_*` fallbacks, how it is parsed and where it lands in `Config`. `loadConfig` walks this table;
 * the `config` command and docs/configuration.md follow it.
 */

/** What a fallback may look at: the environment, and the earlier settings' values and sources. */
export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  sources: Readonly<Record<string, string>>;
  /** The configuration as resolved so far (settings above this one in the table). */
  config: Readonly<Config>;
}

/** A standard `OTEL_*` variable read when the `TRACING_*` one is unset. */
export interface Fallback<T> {
  variable: string;
  /** Only consulted when this holds (e.g. the sampler itself came from OTEL_TRACES_SAMPLER). */
  when?(ctx: ResolveContext): boolean;
  /** Reads the raw value; default `env[variable]`. */
  read?(env: NodeJS.ProcessEnv): string | undefined;
  /** How its value is parsed; default the setting's own parser. */
  parser?: Parser<T>;
}

export interface Setting<T> {
  variable: string;
  /** The key for this setting in the `TRACING_CONFIG` file. */
  fileKey: string;
  parser: Parser<T>;
  fallbacks?: readonly Fallback<T>[];
  /** Secret values are never shown: not in warnings, not in the `config` command, not in logs. */
  secret?: boolean;
  /** Maps only: every valid source contributes, key by key, higher precedence winning per key. */
  merge?: boolean;
  get(config: Config): T;
  set(config: Config, value: T): void;
}

function define<T>(setting: Setting<T>): Setting<T> {
  return setting;
}

/** A setting kept at the top of `Config` under its file key: the key, getter and setter in one. */
function atKey<K extends keyof Config>(key: K): Pick<Setting<Config[K]>, 'fileKey' | 'get' | 'set'> {
  return { fileKey: key, get: (c) => c[key], set: (c, v) => void (c[key] = v) };
}

/**
 * The OTLP exporter's pair of fallbacks for one option: the traces-specific variable first
 * (`OTEL_EXPORTER_OTLP_TRACES_<name>`), then the one for every signal (`OTEL_EXPORTER_OTLP_<name>`),
 * both parsed as the setting itself.
 */
function otlpFallbacks<T>(name: string): Fallback<T>[] {
  return [{ variable: `OTEL_EXPORTER_OTLP_TRACES_${name}` }, { variable: `OTEL_EXPORTER_OTLP_${name}` }];
}

/** A parser whose result is mapped (e.g. OTEL names onto ours). */
function mapped<A, B>(parser: Parser<A>, map: (a: A) => B, expected = parser.expected): Parser<B> {
  return {
    expected,
    parse(raw): Parsed<B> {
      const p = parser.parse(raw);
      return p.ok ? (p.dropped === undefined ? { ok: true, value: map(p.value) } : { ok: true, value: map(p.value), dropped: p.dropped }) : p;
    },
  };
}

const EXPORTERS: readonly ExporterName[] = ['otlp', 'zipkin', 'console', 'file'];
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const overGrpc = (ctx: ResolveContext): boolean => ctx.config.export.protocol === 'grpc';
const SAMPLERS: readonly SamplerName[] = ['always_on', 'always_off', 'ratio', 'parent_based', 'parent_based_ratio'];
/** Names accepted in `TRACING_PROPAGATION` (and `OTEL_PROPAGATORS`); `none` is an option of the parser. */
const PROPAGATION_NAMES: readonly string[] = PROPAGATOR_NAMES.filter((name) => name !== 'none');
const LOG_LEVELS: readonly LogLevel[] = ['none', 'error', 'warn', 'info', 'debug'];

/** OTEL_TRACES_SAMPLER values we honour, and what each means in our terms. */
const OTEL_SAMPLERS: Readonly<Record<string, { sampler: SamplerName; rate?: number; ratioArg: boolean }>> = {
  always_on: { sampler: 'always_on', ratioArg: false },
  always_off: { sampler: 'always_off', ratioArg: false },
  traceidratio: { sampler: 'ratio', ratioArg: true },
  parentbased_always_on: { sampler: 'parent_based', rate: 1, ratioArg: false },
  parentbased_always_off: { sampler: 'parent_based', rate: 0, ratioArg: false },
  parentbased_traceidratio: { sampler: 'parent_based', ratioArg: true },
};
const otelSamplerParser = enumParser(Object.keys(OTEL_SAMPLERS), 'OTEL sampler');
const samplerFromOtel = (ctx: ResolveContext): boolean => ctx.sources.TRACING_SAMPLER === 'OTEL_TRACES_SAMPLER';

/** `OTEL_RESOURCE_ATTRIBUTES` as a map, for the service name, version and environment it may carry. */
const resourceAttributes = mapParser<string>({ key: 'key' });
function resourceAttribute(...keys: string[]): (env: NodeJS.ProcessEnv) => string | undefined {
  return (env) => {
    const raw = env.OTEL_RESOURCE_ATTRIBUTES;
    if (raw === undefined) return undefined;
    const parsed = resourceAttributes.parse(raw);
    if (!parsed.ok) return undefined; // reported once, by TRACING_TAGS' fallback
    for (const k of keys) if (parsed.value[k] !== undefined) return parsed.value[k];
    return undefined;
  };
}
/** Resource keys that have their own setting, so they never sit in `tags` where they would override it. */
export const LIFTED_RESOURCE_KEYS: readonly string[] = ['service.name', 'service.version', 'deployment.environment', 'deployment.environment.name'];

const level = enumParser(LOG_LEVELS, 'log level');
const OTEL_LOG_LEVELS: Readonly<Record<string, LogLevel>> = { none: 'none', error: 'error', warn: 'warn', info: 'info', debug: 'debug', verbose: 'debug', all: 'debug' };

const positiveInt = (max: number, unit = '') => numberParser(1, max, true, unit);

/** Query parameter names (fragments) to redact; `none` redacts nothing. Replaces the default list. */
const queryParamListParser: Parser<string[]> = {
  expected: 'a comma-separated list of query parameter names (or parts of names), or none',
  parse(raw): Parsed<string[]> {
    const entries = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
    if (entries === null || entries.some((e) => typeof e !== 'string')) return { ok: false };
    const names = (entries as string[]).map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
    if (names.length === 1 && names[0] === 'none') return { ok: true, value: [] };
    if (names.length === 0 || names.some((n) => !/^[^\s=&#,]+$/.test(n))) return { ok: false };
    return { ok: true, value: names };
  },
};

/** Every setting, in the order the `config` command prints them. */
export const SETTINGS: readonly Setting<any>[] = [
  define<boolean>({
    variable: 'TRACING_ENABLED',
    parser: booleanParser,
    fallbacks: [{ variable: 'OTEL_SDK_DISABLED', parser: mapped(booleanParser, (disabled) => !disabled) }],
    ...atKey('enabled'),
  }),
  define<string>({
    variable: 'TRACING_SERVICE_NAME',
    parser: textParser,
    fallbacks: [
      { variable: 'OTEL_SERVICE_NAME' },
      { variable: 'OTEL_RESOURCE_ATTRIBUTES', read: resourceAttribute('service.name') },
    ],
    ...atKey('serviceName'),
  }),
  define<string>({
    variable: 'TRACING_SERVICE_VERSION',
    parser: textParser,
    fallbacks: [{ variable: 'OTEL_RESOURCE_ATTRIBUTES', read: resourceAttribute('service.version') }],
    ...atKey('serviceVersion'),
  }),
  define<string>({
    variable: 'TRACING_ENVIRONMENT',
    parser: textParser,
    fallbacks: [
      { variable: 'OTEL_RESOURCE_ATTRIBUTES', read: resourceAttribute('deployment.environment.name', 'deployment.environment') },
    ],
    ...atKey('environment'),
  }),
  define<Record<string, string | number | boolean>>({
    variable: 'TRACING_TAGS',
    fileKey: 'tags',
    parser: mapParser({ key: 'key', scalars: true }),
    merge: true,
    fallbacks: [{ variable: 'OTEL_RESOURCE_ATTRIBUTES', parser: mapParser({ key: 'key' }) }],
    get: (c) => c.tags as Record<string, string | number | boolean>,
    set: (c, v) => (c.tags = v),
  }),
  define<string[]>({
    variable: 'TRACING_EXPORTER',
    fileKey: 'exporter',
    parser: nameListParser(EXPORTERS, 'exporter', { none: { name: 'none', keep: true } }),
    fallbacks: [{ variable: 'OTEL_TRACES_EXPORTER', parser: nameListParser(['otlp', 'zipkin', 'console'], 'exporter', { none: { name: 'none', keep: true } }) }],
    get: (c) => [...c.export.exporters],
    set: (c, v) => (c.export.exporters = v as ExporterName[]),
  }),
  define<OtlpProtocol>({
    variable: 'TRACING_EXPORTER_PROTOCOL',
    fileKey: 'exporterProtocol',
    parser: enumParser(PROTOCOLS, 'protocol'),
    fallbacks: otlpFallbacks('PROTOCOL'),
    get: (c) => c.export.protocol,
    set: (c, v) => (c.export.protocol = v),
  }),
  define<string>({
    variable: 'TRACING_ENDPOINT',
    fileKey: 'endpoint',
    parser: urlParser,
    fallbacks: [
      { variable: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' },
      // The generic endpoint is a base URL: the signal path is appended, as the OTLP exporter spec says;
      // over gRPC it is used as is (a gRPC call has its own path).
      { variable: 'OTEL_EXPORTER_OTLP_ENDPOINT', when: (ctx) => !overGrpc(ctx), parser: mapped(urlParser, (base) => `${base.replace(/\/+$/, '')}/v1/traces`) },
      { variable: 'OTEL_EXPORTER_OTLP_ENDPOINT', when: overGrpc },
    ],
    get: (c) => c.export.endpoint,
    set: (c, v) => (c.export.endpoint = v),
  }),
  define<string>({
    variable: 'TRACING_ZIPKIN_ENDPOINT',
    fileKey: 'zipkinEndpoint',
    parser: urlParser,
    fallbacks: [{ variable: 'OTEL_EXPORTER_ZIPKIN_ENDPOINT' }],
    get: (c) => c.export.zipkinEndpoint,
    set: (c, v) => (c.export.zipkinEndpoint = v),
  }),
  define<Record<string, string>>({
    variable: 'TRACING_EXPORTER_HEADERS',
    fileKey: 'exporterHeaders',
    secret: true,
    parser: mapParser({ key: 'header-name', normalizeKey: headerKey }),
    fallbacks: otlpFallbacks('HEADERS'),
    get: (c) => c.export.headers as Record<string, string>,
    set: (c, v) => (c.export.headers = v),
  }),
  define<'gzip' | 'none'>({
    variable: 'TRACING_EXPORTER_COMPRESSION',
    fileKey: 'exporterCompression',
    parser: enumParser(['gzip', 'none'], 'compression'),
    fallbacks: otlpFallbacks('COMPRESSION'),
    get: (c) => c.export.compression,
    set: (c, v) => (c.export.compression = v),
  }),
  define<number>({
    variable: 'TRACING_EXPORTER_TIMEOUT_MS',
    fileKey: 'exporterTimeoutMs',
    parser: positiveInt(600_000, 'milliseconds'),
    fallbacks: otlpFallbacks('TIMEOUT'),
    get: (c) => c.export.timeoutMs,
    set: (c, v) => (c.export.timeoutMs = v),
  }),
  // No OTEL_* fallback: OTEL_BSP_EXPORT_TIMEOUT and OTEL_EXPORTER_OTLP_TIMEOUT bound each export
  // while the process runs (30 s / 10 s by default); taking them for the exit would hold every short
  // process that long. The specification has no exit or shutdown deadline.
  define<number>({
    variable: 'TRACING_EXIT_TIMEOUT_MS',
    fileKey: 'exitTimeoutMs',
    parser: numberParser(0, 60_000, true, 'milliseconds'),
    get: (c) => c.export.exitTimeoutMs,
    set: (c, v) => (c.export.exitTimeoutMs = v),
  }),
  define<'tree' | 'json'>({
    variable: 'TRACING_CONSOLE_FORMAT',
    fileKey: 'consoleFormat',
    parser: enumParser(['tree', 'json'], 'console format'),
    get: (c) => c.export.consoleFormat,
    set: (c, v) => (c.export.consoleFormat = v),
  }),
  define<string>({
    variable: 'TRACING_FILE',
    fileKey: 'file',
    parser: textParser,
    get: (c) => c.export.file,
    set: (c, v) => (c.export.file = v),
  }),
  define<number>({
    variable: 'TRACING_BATCH_QUEUE_SIZE',
    fileKey: 'batchQueueSize',
    parser: positiveInt(1_000_000, 'spans'),
    fallbacks: [{ variable: 'OTEL_BSP_MAX_QUEUE_SIZE' }],
    get: (c) => c.export.batch.maxQueueSize,
    set: (c, v) => (c.export.batch.maxQueueSize = v),
  }),
  define<number>({
    variable: 'TRACING_BATCH_SIZE',
    fileKey: 'batchSize',
    parser: positiveInt(1_000_000, 'spans'),
    fallbacks: [{ variable: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' }],
    get: (c) => c.export.batch.maxExportBatchSize,
    set: (c, v) => (c.export.batch.maxExportBatchSize = v),
  }),
  define<number>({
    variable: 'TRACING_BATCH_DELAY_MS',
    fileKey: 'batchDelayMs',
    parser: numberParser(0, 3_600_000, true, 'milliseconds'),
    fallbacks: [{ variable: 'OTEL_BSP_SCHEDULE_DELAY' }],
    get: (c) => c.export.batch.scheduledDelayMs,
    set: (c, v) => (c.export.batch.scheduledDelayMs = v),
  }),
  define<boolean>({
    variable: 'TRACING_EXPORT_BAGGAGE',
    fileKey: 'exportBaggage',
    parser: booleanParser,
    get: (c) => c.export.exportBaggage,
    set: (c, v) => (c.export.exportBaggage = v),
  }),
  define<SamplerName>({
    variable: 'TRACING_SAMPLER',
    fileKey: 'sampler',
    parser: enumParser(SAMPLERS, 'sampler'),
    fallbacks: [{ variable: 'OTEL_TRACES_SAMPLER', parser: mapped(otelSamplerParser, (name) => OTEL_SAMPLERS[name]!.sampler) }],
    get: (c) => c.sampling.sampler,
    set: (c, v) => (c.sampling.sampler = v),
  }),
  define<number>({
    variable: 'TRACING_SAMPLE_RATE',
    fileKey: 'sampleRate',
    parser: numberParser(0, 1, false),
    fallbacks: [
      {
        variable: 'OTEL_TRACES_SAMPLER_ARG',
        when: (ctx) => samplerFromOtel(ctx) && OTEL_SAMPLERS[ctx.env.OTEL_TRACES_SAMPLER!.trim().toLowerCase()]?.ratioArg === true,
      },
      {
        // parentbased_always_off is "parent-based with roots never sampled": a rate of 0.
        variable: 'OTEL_TRACES_SAMPLER',
        when: samplerFromOtel,
        parser: mapped(otelSamplerParser, (name) => OTEL_SAMPLERS[name]!.rate ?? 1),
      },
    ],
    get: (c) => c.sampling.rate,
    set: (c, v) => (c.sampling.rate = v),
  }),
  define<number>({
    variable: 'TRACING_RATE_LIMIT',
    fileKey: 'rateLimit',
    parser: numberParser(0, Infinity, false, 'new traces per second; 0 = no limit'),
    get: (c) => c.sampling.rateLimit,
    set: (c, v) => (c.sampling.rateLimit = v),
  }),
  define<string[]>({
    variable: 'TRACING_PROPAGATION',
    fileKey: 'propagation',
    parser: nameListParser(PROPAGATION_NAMES, 'propagation format', { none: { name: 'none', keep: false } }),
    fallbacks: [{ variable: 'OTEL_PROPAGATORS', parser: nameListParser(PROPAGATION_NAMES, 'propagator', { none: { name: 'none', keep: false } }) }],
    get: (c) => [...c.propagation],
    set: (c, v) => (c.propagation = v),
  }),
  define<string[]>({
    variable: 'TRACING_DISABLED_INSTRUMENTATIONS',
    fileKey: 'disabledInstrumentations',
    parser: nameListParser(INSTRUMENTATION_NAMES, 'instrumentation', { allowEmpty: true, keepUnknown: true }),
    get: (c) => [...c.disabledInstrumentations],
    set: (c, v) => (c.disabledInstrumentations = v),
  }),
  define<string[] | null>({
    variable: 'TRACING_ENABLED_INSTRUMENTATIONS',
    fileKey: 'enabledInstrumentations',
    parser: nameListParser(INSTRUMENTATION_NAMES, 'instrumentation', { allowEmpty: true, keepUnknown: true }),
    get: (c) => (c.enabledInstrumentations === null ? null : [...c.enabledInstrumentations]),
    set: (c, v) => (c.enabledInstrumentations = v),
  }),
  define<ImportHookMode>({
    variable: 'TRACING_IMPORT_HOOK',
    parser: enumParser(IMPORT_HOOK_MODES, 'import hook mode'),
    ...atKey('importHook'),
  }),
  define<Record<string, string>>({
    variable: 'TRACING_PEER_SERVICES',
    fileKey: 'peerServices',
    parser: mapParser({ key: 'host[:port]', normalizeKey: hostKey }),
    get: (c) => c.peerServices as Record<string, string>,
    set: (c, v) => (c.peerServices = v),
  }),
  define<string[]>({
    variable: 'TRACING_REDACT_QUERY_PARAMS',
    fileKey: 'redactQueryParams',
    parser: queryParamListParser,
    get: (c) => [...c.redactQueryParams],
    set: (c, v) => (c.redactQueryParams = v),
  }),
  define<DbStatementMode>({
    variable: 'TRACING_DB_STATEMENT',
    parser: enumParser(DB_STATEMENT_MODES, 'db.statement mode'),
    ...atKey('dbStatement'),
  }),
  define<boolean>({
    variable: 'TRACING_DB_ROOT_SPANS',
    parser: booleanParser,
    ...atKey('dbRootSpans'),
  }),
  define<boolean>({
    variable: 'TRACING_MESSAGING_ROOT_SPANS',
    parser: booleanParser,
    ...atKey('messagingRootSpans'),
  }),
  define<boolean>({
    variable: 'TRACING_LOGS_INJECTION',
    fileKey: 'logsInjection',
    parser: booleanParser,
    get: (c) => c.logs.injection,
    set: (c, v) => (c.logs.injection = v),
  }),
  define<LogsExporterName>({
    variable: 'TRACING_LOGS_EXPORTER',
    fileKey: 'logsExporter',
    parser: enumParser(LOGS_EXPORTERS, 'logs exporter'),
    fallbacks: [{ variable: 'OTEL_LOGS_EXPORTER' }],
    get: (c) => c.logs.exporter,
    set: (c, v) => (c.logs.exporter = v),
  }),
  define<LogLevel>({
    variable: 'TRACING_LOG_LEVEL',
    parser: level,
    fallbacks: [
      {
        variable: 'OTEL_LOG_LEVEL',
        parser: mapped(enumParser(Object.keys(OTEL_LOG_LEVELS), 'log level'), (l) => OTEL_LOG_LEVELS[l]!),
      },
    ],
    ...atKey('logLevel'),
  }),
];

/** The variable naming the JSON config file. Not a setting itself: it is read first. */
export const CONFIG_FILE_VARIABLE = 'TRACING_CONFIG';

/** Keys the config file accepts at its top level. */
export const FILE_KEYS: readonly string[] = [...SETTINGS.map((s) => s.fileKey), 'instrumentations'];
