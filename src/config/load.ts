import { findAppPackage, type AppPackage } from './app-package.js';
import { readConfigFile, type ReadFile } from './file.js';
import { INSTRUMENTATION_NAMES } from './instrumentation-names.js';
import type { Parsed } from './parse.js';
import { CONFIG_FILE_VARIABLE, LIFTED_RESOURCE_KEYS, SETTINGS, type ResolveContext, type Setting } from './settings.js';
import { describeValue, redactUrl } from './describe.js';
import type { Config } from './types.js';
import { DEFAULT_SENSITIVE_PARAMS } from '../util/redact.js';

/** What loading produced: the configuration and one warning per bad value. */
export interface LoadedConfig {
  config: Readonly<Config>;
  warnings: readonly string[];
  /**
   * Where each setting came from, by its `TRACING_*` variable: that variable, an `OTEL_*` variable,
   * `file <path>`, `package.json <path>`, or `default` (merged maps join theirs with ` + `).
   * Also `TRACING_CONFIG` (the file, or `unset`) and `instrumentations` (the file, or `default`).
   */
  sources: Readonly<Record<string, string>>;
  /** The config file that was read, or null. */
  configFile: string | null;
}

/** Where loading looks besides the environment; tests replace these. */
export interface LoadOptions {
  /** Relative `TRACING_CONFIG` paths and the package.json search start here; default `process.cwd()`. */
  cwd?: string;
  /** The app's entry script, for the default service name; default `process.argv[1]`. */
  mainScript?: string;
  readFile?: ReadFile;
}

/** The defaults every variable falls back to. */
export function defaultConfig(): Config {
  return {
    enabled: true,
    serviceName: 'unknown_service:node',
    serviceVersion: '',
    environment: '',
    tags: {},
    export: {
      exporters: ['otlp'],
      protocol: 'http/protobuf',
      endpoint: 'http://localhost:4318/v1/traces',
      zipkinEndpoint: 'http://localhost:9411/api/v2/spans',
      headers: {},
      compression: 'none',
      timeoutMs: 10_000,
      exitTimeoutMs: 500,
      consoleFormat: 'tree',
      file: 'traces.jsonl',
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 1000 },
      exportBaggage: false,
    },
    sampling: { sampler: 'parent_based', rate: 1, rateLimit: 0 },
    propagation: ['tracecontext', 'baggage'],
    disabledInstrumentations: [],
    enabledInstrumentations: null,
    importHook: 'auto',
    instrumentations: {},
    peerServices: {},
    redactQueryParams: [...DEFAULT_SENSITIVE_PARAMS],
    dbStatement: 'sanitized',
    dbRootSpans: false,
    logs: { injection: true, exporter: 'none' },
    messagingRootSpans: false,
    logLevel: 'warn',
  };
}

/** One place a value may come from, highest precedence first. */
interface Candidate {
  /** How warnings name it: the variable, or the file and key. */
  label: string;
  /** How `sources` records it. */
  source: string;
  /** The raw value, or undefined when this source is silent; may be computed lazily (package.json). */
  read(): unknown;
  parse(raw: unknown): Parsed<unknown>;
  expected: string;
}

/**
 * Resolves the configuration: `TRACING_*` > `OTEL_*` > the `TRACING_CONFIG` file > the app's
 * package.json (service name and version) > defaults. The only place that reads `process.env`.
 * Never throws: a bad value gives one warning naming the variable, the value (never a secret's) and
 * what is accepted, and the next source applies — the default when nothing else is set.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const config = defaultConfig();
  const defaults = defaultConfig();
  const file = readConfigFile(env, cwd, options.readFile);
  const warnings: string[] = [...file.warnings];
  const sources: Record<string, string> = Object.create(null);
  sources[CONFIG_FILE_VARIABLE] = file.path === null ? 'unset' : CONFIG_FILE_VARIABLE;
  const fileLabel = `${CONFIG_FILE_VARIABLE}="${env[CONFIG_FILE_VARIABLE]?.trim()}"`;

  // Looked up lazily: most deployments name the service, and then no file is read.
  let appPackage: AppPackage | null | undefined;
  const app = (): AppPackage | null => (appPackage === undefined ? (appPackage = findAppPackage(cwd, options.mainScript ?? process.argv[1], options.readFile)) : appPackage);

  for (const setting of SETTINGS) {
    const ctx: ResolveContext = { env, sources, config };
    const candidates = candidatesFor(setting, ctx, file.values, file.path, fileLabel);
    if (setting.variable === 'TRACING_SERVICE_NAME' || setting.variable === 'TRACING_SERVICE_VERSION') {
      candidates.push({
        label: 'package.json',
        source: 'package.json',
        read() {
          // A version only describes the service it belongs to: take it only with the name.
          if (setting.variable === 'TRACING_SERVICE_VERSION' && !sources.TRACING_SERVICE_NAME!.startsWith('package.json')) return undefined;
          const pkg = app();
          if (pkg === null) return undefined;
          this.source = `package.json ${pkg.path}`;
          return setting.variable === 'TRACING_SERVICE_NAME' ? pkg.name : pkg.version || undefined;
        },
        parse: (raw) => setting.parser.parse(raw),
        expected: setting.parser.expected,
      });
    }
    resolve(setting, candidates, config, defaults, sources, warnings);
  }

  checkBatchBounds(config, sources, warnings);
  applyGrpcEndpoint(config, sources, warnings);
  applyInstrumentationFile(config, file.instrumentations, sources, file.path);
  return { config, warnings, sources, configFile: file.path };
}

function candidatesFor(setting: Setting<unknown>, ctx: ResolveContext, fileValues: Readonly<Record<string, unknown>>, filePath: string | null, fileLabel: string): Candidate[] {
  const out: Candidate[] = [];
  const fromEnv = (variable: string, raw: string | undefined, parser = setting.parser): void => {
    // An empty variable (`TRACING_X= node app`) means "unset", as in most shells' habits.
    if (raw === undefined || raw.trim() === '') return;
    out.push({ label: variable, source: variable, read: () => raw, parse: (r) => parser.parse(r), expected: parser.expected });
  };
  fromEnv(setting.variable, ctx.env[setting.variable]);
  for (const fb of setting.fallbacks ?? []) {
    if (fb.when && !fb.when(ctx)) continue;
    fromEnv(fb.variable, fb.read ? fb.read(ctx.env) : ctx.env[fb.variable], fb.parser);
  }
  if (filePath !== null && fileValues[setting.fileKey] !== undefined) {
    out.push({
      label: `${fileLabel} key "${setting.fileKey}"`,
      source: `file ${filePath}`,
      read: () => fileValues[setting.fileKey],
      parse: (r) => setting.parser.parse(r),
      expected: setting.parser.expected,
    });
  }
  return out;
}

/** Picks the first valid candidate (or merges them all, for maps), warning once for each bad one. */
function resolve(setting: Setting<unknown>, candidates: Candidate[], config: Config, defaults: Config, sources: Record<string, string>, warnings: string[]): void {
  const rejected: Array<{ candidate: Candidate; raw: unknown; problem?: string }> = [];
  const accepted: Array<{ candidate: Candidate; value: unknown }> = [];
  for (const candidate of candidates) {
    const raw = candidate.read();
    if (raw === undefined) continue;
    const parsed = candidate.parse(raw);
    if (!parsed.ok) {
      rejected.push(parsed.problem === undefined ? { candidate, raw } : { candidate, raw, problem: parsed.problem });
      continue;
    }
    if (parsed.dropped !== undefined) {
      warnings.push(`${candidate.label}: ${parsed.dropped}; accepted: ${candidate.expected}; the rest of the value is used.`);
    }
    accepted.push({ candidate, value: parsed.value });
    if (!setting.merge) break;
  }

  if (accepted.length === 0) {
    sources[setting.variable] = 'default';
  } else if (setting.merge) {
    const merged: Record<string, unknown> = Object.create(null);
    for (let i = accepted.length - 1; i >= 0; i--) Object.assign(merged, accepted[i]!.value);
    for (const k of LIFTED_RESOURCE_KEYS) delete merged[k];
    setting.set(config, merged);
    sources[setting.variable] = accepted.map((a) => a.candidate.source).join(' + ');
  } else {
    setting.set(config, accepted[0]!.value);
    sources[setting.variable] = accepted[0]!.candidate.source;
  }

  if (rejected.length === 0) return;
  const outcome =
    accepted.length === 0
      ? `using the default ${setting.secret ? '(none)' : describeValue(setting.get(defaults))}`
      : `using ${setting.secret ? 'the value' : describeValue(setting.get(config))} from ${sources[setting.variable]}`;
  for (const { candidate, raw, problem } of rejected) {
    const what = setting.secret
      ? 'the value is not accepted (not shown: it is secret)'
      : problem ?? `${JSON.stringify(raw)} is not accepted`;
    warnings.push(`${candidate.label}: ${what}; expected ${candidate.expected}; ${outcome}.`);
  }
}

/** A batch larger than the queue could never fill: clamp it to the queue (saying so when the user set it). */
function checkBatchBounds(config: Config, sources: Record<string, string>, warnings: string[]): void {
  const batch = config.export.batch;
  if (batch.maxExportBatchSize <= batch.maxQueueSize) return;
  // Only the user's own batch size deserves a warning; the default simply follows a smaller queue.
  if (sources.TRACING_BATCH_SIZE !== 'default') warnings.push(
    `TRACING_BATCH_SIZE: ${batch.maxExportBatchSize} (from ${sources.TRACING_BATCH_SIZE}) is larger than the queue ` +
      `(TRACING_BATCH_QUEUE_SIZE=${batch.maxQueueSize}); expected at most the queue size; using ${batch.maxQueueSize}.`,
  );
  batch.maxExportBatchSize = batch.maxQueueSize;
}

/** The default OTLP/gRPC endpoint: a Collector's gRPC port. */
export const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';

/**
 * Over gRPC the default endpoint is the Collector's port 4317. A path is not used by gRPC; an OTLP/HTTP
 * one (`/v1/traces`) most likely means the endpoint of the other protocol (port 4318), which would
 * fail every export: say so once.
 */
function applyGrpcEndpoint(config: Config, sources: Record<string, string>, warnings: string[]): void {
  if (config.export.protocol !== 'grpc') return;
  if (sources.TRACING_ENDPOINT === 'default') {
    config.export.endpoint = DEFAULT_GRPC_ENDPOINT;
    return;
  }
  let path = '/';
  try {
    path = new URL(config.export.endpoint).pathname;
  } catch {
    return;
  }
  if (/\/v1\/traces\/?$/.test(path)) warnings.push(
    `TRACING_ENDPOINT: ${JSON.stringify(redactUrl(config.export.endpoint))} (from ${sources.TRACING_ENDPOINT}) is an OTLP/HTTP traces URL, but ` +
      `TRACING_EXPORTER_PROTOCOL is grpc (from ${sources.TRACING_EXPORTER_PROTOCOL}); expected the collector's gRPC address, e.g. ${DEFAULT_GRPC_ENDPOINT}; ` +
      'the path is ignored and gRPC calls go to its host and port.',
  );
}

/**
 * Folds the file's per-instrumentation section in: options go to `instrumentations`, and `false`
 * joins `disabledInstrumentations` — unless `TRACING_ENABLED_INSTRUMENTATIONS` names it, since the
 * environment outranks the file.
 */
function applyInstrumentationFile(config: Config, fromFile: Readonly<Record<string, Readonly<Record<string, unknown>> | false>>, sources: Record<string, string>, filePath: string | null): void {
  const names = Object.keys(fromFile);
  sources.instrumentations = names.length === 0 || filePath === null ? 'default' : `file ${filePath}`;
  if (names.length === 0) return;
  config.instrumentations = fromFile;
  const enabledByEnv = sources.TRACING_ENABLED_INSTRUMENTATIONS === 'TRACING_ENABLED_INSTRUMENTATIONS' ? config.enabledInstrumentations : null;
  const disabled = [...config.disabledInstrumentations];
  for (const name of INSTRUMENTATION_NAMES) {
    if (fromFile[name] === false && !disabled.includes(name) && !enabledByEnv?.includes(name)) disabled.push(name);
  }
  if (disabled.length !== config.disabledInstrumentations.length) {
    config.disabledInstrumentations = disabled;
    const before = sources.TRACING_DISABLED_INSTRUMENTATIONS;
    const fileSource = `file ${filePath}`;
    sources.TRACING_DISABLED_INSTRUMENTATIONS = before === 'default' || before === fileSource ? fileSource : `${before} + ${fileSource}`;
  }
}
