/**
 * The template a framework was given for a path (`'/users/:id'`, a RegExp, or an array of them),
 * as a string for span names; undefined when there is no path worth naming (`'/'`, a handler).
 */
export function pathTemplate(path: unknown): string | undefined {
  if (typeof path === 'string') return path === '/' || path === '' ? undefined : stripTrailingSlash(path);
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path) && path.length > 0) {
    const parts: string[] = [];
    for (const p of path) {
      const t = typeof p === 'string' ? p : p instanceof RegExp ? String(p) : undefined;
      if (t === undefined) return undefined;
      parts.push(t);
    }
    return parts.join(',');
  }
  return undefined;
}

/** `prefix` + `route`, so that `/api` + `/` names `/api`, and nothing at all names `/`. */
export function joinTemplate(prefix: string, route: string | undefined): string {
  const full = route === undefined ? prefix : prefix + route;
  return full === '' ? '/' : full;
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
