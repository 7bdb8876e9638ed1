import type { Config } from './types.js';

/** What loading produced: the configuration and one warning per bad value. */
export interface LoadedConfig {
  config: Readonly<Config>;
  warnings: readonly string[];
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
      consoleFormat: 'tree',
      file: 'traces.jsonl',
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 1000 },
      exportBaggage: false,
    },
    sampling: { sampler: 'parent_based', rate: 1, rateLimit: 0 },
    propagation: ['tracecontext', 'baggage'],
    disabledInstrumentations: [],
    enabledInstrumentations: null,
    instrumentations: {},
    peerServices: {},
    logLevel: 'warn',
  };
}

/**
 * Resolves the configuration from the environment. The only place that reads `process.env`.
 * Never throws: a bad value gives a warning and the default.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const config = defaultConfig();
  // Placeholder until the configuration issue lands: just enough for the console demo.
  if (env.TRACING_EXPORTER === 'console' || env.TRACING_EXPORTER === 'none') config.export.exporters = [env.TRACING_EXPORTER];
  if (env.TRACING_SERVICE_NAME) config.serviceName = env.TRACING_SERVICE_NAME;
  // Loader placeholder (superseded by the configuration issue): what the loader tests switch.
  if (env.TRACING_ENABLED === 'false') config.enabled = false;
  if (env.TRACING_DISABLED_INSTRUMENTATIONS) config.disabledInstrumentations = env.TRACING_DISABLED_INSTRUMENTATIONS.split(',').map((s) => s.trim());
  if (env.TRACING_LOG_LEVEL === 'debug' || env.TRACING_LOG_LEVEL === 'info') config.logLevel = env.TRACING_LOG_LEVEL;
  return { config, warnings: [] };
}
