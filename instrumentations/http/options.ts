import type { AgentSettings, InstrumentationContext, UrlRedactor } from '../../src/agent/instrumentation.js';

/** Headers whose values never reach a span, whatever the allowlist says. */
const NEVER_CAPTURED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** The options users set per instrumentation in the `TRACING_CONFIG` file, validated. */
export interface HttpOptions {
  /** Paths (without query) that get no span at all; a trailing `*` matches a prefix. */
  ignorePaths: readonly string[];
  /** Request headers recorded as `http.request.header.<name>` tags. */
  requestHeaders: readonly string[];
  /** Response headers recorded as `http.response.header.<name>` tags. */
  responseHeaders: readonly string[];
  /** The incoming header in which a caller names itself, recorded as `peer.service`. */
  peerServiceHeader: string;
  redactor: UrlRedactor;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The context `http` and `https` code receives. */
export type HttpContext = InstrumentationContext<HttpOptions>;

/**
 * Reads the instrumentation's section of the config file; anything malformed falls back to the
 * default. `sensitiveQueryParams` there overrides the agent-wide setting; so does `peerServices`
 * (applied by `ctx.startClientSpan`).
 */
export function readHttpOptions(config: Readonly<Record<string, unknown>>, settings: AgentSettings): HttpOptions {
  const sensitive = stringList(config.sensitiveQueryParams);
  return {
    ignorePaths: stringList(config.ignorePaths),
    requestHeaders: stringList(config.requestHeaders).map((h) => h.toLowerCase()).filter((h) => !NEVER_CAPTURED.has(h)),
    responseHeaders: stringList(config.responseHeaders).map((h) => h.toLowerCase()).filter((h) => !NEVER_CAPTURED.has(h)),
    peerServiceHeader: typeof config.peerServiceHeader === 'string' ? config.peerServiceHeader.toLowerCase() : 'x-service-name',
    // A list, even an empty one, replaces the agent-wide one (TRACING_REDACT_QUERY_PARAMS).
    redactor: Array.isArray(config.sensitiveQueryParams) ? settings.redactorFor(sensitive) : settings.urlRedactor,
  };
}

/** True when `url`'s path (query excluded) is on the ignore list. */
export function isIgnoredPath(url: string | undefined, ignore: readonly string[]): boolean {
  if (ignore.length === 0 || url === undefined) return false;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  for (const p of ignore) {
    if (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p) return true;
  }
  return false;
}
