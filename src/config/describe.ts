import { enabledInstrumentationNames } from './instrumentation-names.js';
import type { Config } from './types.js';

/** Shown instead of a secret value. */
export const REDACTED = '[redacted]';

/** A setting's value as one short human-readable string (lists comma-joined, maps as `k=v`). */
export function describeValue(value: unknown): string {
  if (value === null) return '(all)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
  }
  if (value === '') return '(none)';
  return String(value);
}

/** A secret map with its keys kept and every value replaced. */
export function redactValues(map: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(map)) out[k] = REDACTED;
  return out;
}

/**
 * An endpoint safe to print: credentials in the authority and the query (where tokens such as
 * `?api_key=` travel) are replaced; the host and path stay, since that is what users need to check.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const credentials = u.username !== '' || u.password !== '';
    const query = u.search !== '';
    if (!credentials && !query) return url;
    return `${u.protocol}//${credentials ? `${REDACTED}@` : ''}${u.host}${u.pathname}${query ? `?${REDACTED}` : ''}`;
  } catch {
    return REDACTED;
  }
}

function describeExporter(config: Readonly<Config>, name: string): string {
  const e = config.export;
  switch (name) {
    case 'otlp':
      return `otlp ${e.protocol} to ${redactUrl(e.endpoint)}${Object.keys(e.headers).length > 0 ? ` (headers ${describeValue(redactValues(e.headers))})` : ''}`;
    case 'zipkin':
      return `zipkin to ${redactUrl(e.zipkinEndpoint)}`;
    case 'console':
      return `console (${e.consoleFormat})`;
    case 'file':
      return `file ${e.file}`;
    default:
      return name;
  }
}

function describeSampler(config: Readonly<Config>): string {
  const s = config.sampling;
  const rate = s.sampler === 'always_on' || s.sampler === 'always_off' ? '' : ` rate ${s.rate}`;
  return `${s.sampler}${rate}${s.rateLimit > 0 ? `, at most ${s.rateLimit} traces/s` : ''}`;
}

/**
 * The one-line start-up summary: service, exporters and endpoints, sampler, propagation and the
 * instrumentations that will run. Secrets never appear: header values and URL credentials are redacted.
 */
export function describeConfig(config: Readonly<Config>): string {
  if (!config.enabled) return 'tracing is disabled (TRACING_ENABLED=false or OTEL_SDK_DISABLED=true): nothing is patched';
  const service = [config.serviceName, config.serviceVersion, config.environment && `(${config.environment})`].filter(Boolean).join(' ');
  const exporters = config.export.exporters.map((name) => describeExporter(config, name)).join(' + ');
  return [
    `service ${service}`,
    `exporter ${exporters}`,
    `sampler ${describeSampler(config)}`,
    `propagation ${describeValue(config.propagation)}`,
    `instrumentations ${describeValue(enabledInstrumentationNames(config))}`,
  ].join('; ');
}
