// Attribute keys, span names and short values repeat across spans; the store keeps up to 100,000
// spans for a long time, so one shared copy of each saves a large share of its memory (about a
// third in benchmarks/viewer/ingest.mjs) and of the old-space GC work. Bounded: past the limit,
// new strings are simply not shared.
const MAX_INTERNED = 20_000;
const MAX_LENGTH = 200;
const SHORT = 64;
const interned = new Map<string, string>();

/** The shared copy of `s` (a key or a name). */
export function intern(s: string): string {
  const shared = interned.get(s);
  if (shared !== undefined) return shared;
  if (interned.size < MAX_INTERNED && s.length <= MAX_LENGTH) interned.set(s, s);
  return s;
}

/** The shared copy of a short value (methods, components, peers); long ones (URLs, SQL) rarely repeat. */
export function internShort(s: string): string {
  return s.length <= SHORT ? intern(s) : s;
}
