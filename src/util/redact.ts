/**
 * URL redaction shared by every HTTP instrumentation: credentials in the authority are removed and the
 * values of sensitive query parameters are replaced, so secrets never reach a span.
 */

/** Query parameter names (or parts of names) whose values are never recorded; matched case-insensitively. */
export const DEFAULT_SENSITIVE_PARAMS: readonly string[] = [
  'token', 'key', 'password', 'passwd', 'pwd', 'secret', 'signature', 'sig', 'auth', 'credential', 'session', 'code',
];

export const REDACTED = 'REDACTED';

/** Compiled once per configuration: lower-case fragments searched in each parameter name. */
export class UrlRedactor {
  private readonly fragments: readonly string[];

  constructor(sensitive: readonly string[] = DEFAULT_SENSITIVE_PARAMS) {
    this.fragments = sensitive.map((s) => s.toLowerCase()).filter((s) => s.length > 0);
  }

  /** True when a parameter of this name must not be recorded. */
  isSensitive(name: string): boolean {
    const lower = name.toLowerCase();
    for (const f of this.fragments) if (lower.includes(f)) return true;
    return false;
  }

  /**
   * `origin + path` redacted, where `origin` is a scheme and authority (`http://host:port`) and `path`
   * what follows it. Only an `@` in the origin (credentials) or a `?` in the path (parameters) can hold
   * a secret: checked on the two parts as they come (flat strings), which spares the scan of the joined
   * URL (a rope V8 flattens first) on the common request. Every HTTP instrumentation's URL comes here.
   */
  redactJoined(origin: string, path: string): string {
    const url = origin + path;
    return origin.indexOf('@') === -1 && path.indexOf('?') === -1 ? url : this.redact(url);
  }

  /** Redacts a URL or a path with a query; cheap when there is nothing to redact. */
  redact(url: string): string {
    let out = stripCredentials(url);
    const q = out.indexOf('?');
    if (q === -1) return out;
    const hash = out.indexOf('#', q);
    const query = hash === -1 ? out.slice(q + 1) : out.slice(q + 1, hash);
    if (query === '') return out;
    let changed = false;
    const parts = query.split('&');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      let name = part.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape still gets checked by its raw name.
      }
      if (this.isSensitive(name)) {
        parts[i] = `${part.slice(0, eq)}=${REDACTED}`;
        changed = true;
      }
    }
    if (!changed) return out;
    out = `${out.slice(0, q + 1)}${parts.join('&')}${hash === -1 ? '' : out.slice(hash)}`;
    return out;
  }
}

/** Removes `user:password@` from an absolute URL; other strings are returned as they are. */
export function stripCredentials(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme === -1) return url;
  const authorityStart = scheme + 3;
  let authorityEnd = url.length;
  for (let i = authorityStart; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      authorityEnd = i;
      break;
    }
  }
  const at = url.lastIndexOf('@', authorityEnd - 1);
  if (at < authorityStart) return url;
  return url.slice(0, authorityStart) + url.slice(at + 1);
}
