/**
 * `semver.satisfies(version, range, { includePrerelease: true })` for the ranges instrumentations
 * declare (`*`, `>=4 <6`, `>=1.8`, `>=13.4.0`): loading semver and building its regular expressions
 * costs 5-20 ms of start-up CPU, paid by every app that loads one watched package. Returns null for
 * anything else (`^1`, `~2.3`, `1.x`, `||`, a loose version), which the caller hands to semver.
 */
export function satisfiesSimpleRange(version: string, range: string): boolean | null {
  const v = parseVersion(version);
  if (v === null) return null;
  const parts = range.trim().split(/\s+/);
  if (parts.length === 1 && (parts[0] === '*' || parts[0] === '')) return true;
  let ok = true;
  for (const part of parts) {
    const c = COMPARATOR.exec(part);
    if (c === null) return null;
    const bound: Version = {
      triple: [Number(c[2]), Number(c[3] ?? 0), Number(c[4] ?? 0)],
      // semver reads a partial bound (`6`, `1.8`) as the lowest prerelease of it (`6.0.0-0`) when
      // prereleases are included, a full one (`6.0.0`) as written.
      lowestPrerelease: c[4] === undefined,
      prerelease: null,
    };
    const order = compare(v, bound);
    if (c[1] === '>=' ? order < 0 : order >= 0) ok = false;
  }
  return ok;
}

interface Version {
  triple: [number, number, number];
  /** True for a bound `X.Y.Z-0`: below every release and prerelease of X.Y.Z but `X.Y.Z-0` itself. */
  lowestPrerelease: boolean;
  prerelease: string | null;
}

const NUMBER = '(0|[1-9]\\d*)';
const IDENTIFIER = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const VERSION = new RegExp(`^${NUMBER}\\.${NUMBER}\\.${NUMBER}(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`);
const COMPARATOR = new RegExp(`^(>=|<)${NUMBER}(?:\\.${NUMBER}(?:\\.${NUMBER})?)?$`);

function parseVersion(version: string): Version | null {
  const m = VERSION.exec(version);
  if (m === null) return null;
  const triple: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!triple.every(Number.isSafeInteger)) return null;
  return { triple, lowestPrerelease: false, prerelease: m[4] ?? null };
}

/** Order of a parsed version against a bound (which has no prerelease of its own). */
function compare(v: Version, bound: Version): number {
  for (let i = 0; i < 3; i++) {
    if (v.triple[i] !== bound.triple[i]) return v.triple[i]! < bound.triple[i]! ? -1 : 1;
  }
  if (bound.lowestPrerelease) return v.prerelease === null || v.prerelease !== '0' ? 1 : 0;
  return v.prerelease === null ? 0 : -1;
}
