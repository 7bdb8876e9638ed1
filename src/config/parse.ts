import { didYouMean } from './suggest.js';

/**
 * Value parsers shared by every setting. Each accepts what an environment variable holds (a string)
 * and what the JSON config file may hold for the same setting (a boolean, number, array or object),
 * and either returns the typed value or says what it expected. None of them throws.
 */

/** A parsed value, or why the raw value was rejected. */
export type Parsed<T> =
  | {
      ok: true;
      value: T;
      /** Part of the value was dropped (unknown list entries): the reason, for one warning. */
      dropped?: string;
    }
  | {
      ok: false;
      /** What was wrong, when more precise than "not accepted" (e.g. an unknown name with a suggestion). */
      problem?: string;
    };

export interface Parser<T> {
  parse(raw: unknown): Parsed<T>;
  /** What is accepted, in words, for warnings and the documentation. */
  expected: string;
}

const ok = <T>(value: T, dropped?: string): Parsed<T> => (dropped === undefined ? { ok: true, value } : { ok: true, value, dropped });
const bad = <T>(problem?: string): Parsed<T> => (problem === undefined ? { ok: false } : { ok: false, problem });

/** A scalar as a trimmed string; numbers and booleans from the config file are accepted as text. */
function scalarText(raw: unknown): string | null {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return null;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export const booleanParser: Parser<boolean> = {
  expected: 'true or false (also 1/0, yes/no, on/off)',
  parse(raw) {
    const text = scalarText(raw)?.toLowerCase();
    if (text !== undefined && TRUE_WORDS.has(text)) return ok(true);
    if (text !== undefined && FALSE_WORDS.has(text)) return ok(false);
    return bad();
  },
};

/** A non-empty string (a name or a file path); control characters would corrupt log lines and tags. */
export const textParser: Parser<string> = {
  expected: 'a non-empty string without control characters',
  parse(raw) {
    const text = typeof raw === 'string' ? raw.trim() : null;
    return text && !/[\u0000-\u001f\u007f]/.test(text) ? ok(text) : bad();
  },
};

/** A number in `[min, max]`; `integer` rejects fractions. */
export function numberParser(min: number, max: number, integer: boolean, unit = ''): Parser<number> {
  const kind = integer ? 'an integer' : 'a number';
  const range = max === Infinity ? `${min} or more` : `from ${min} to ${max}`;
  return {
    expected: `${kind} ${range}${unit ? ` (${unit})` : ''}`,
    parse(raw) {
      const text = scalarText(raw);
      // Number('') is 0 and Number('0x10') is 16: accept plain decimal notation only.
      if (text === null || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return bad();
      const n = Number(text);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) return bad();
      return ok(n);
    },
  };
}

/** One name out of `names` (case-insensitive); an unknown one gets the closest known name. */
export function enumParser<T extends string>(names: readonly T[], what: string): Parser<T> {
  return {
    expected: `one of ${names.join(', ')}`,
    parse(raw) {
      const text = scalarText(raw)?.toLowerCase();
      if (text === undefined || text === '') return bad();
      if ((names as readonly string[]).includes(text)) return ok(text as T);
      return bad(`unknown ${what} "${text}"${didYouMean(text, names)}`);
    },
  };
}

/** The entries of a comma list (env) or a string array (file); null when the shape is wrong. */
function listEntries(raw: unknown): string[] | null {
  let items: unknown[];
  if (typeof raw === 'string') items = raw.split(',');
  else if (Array.isArray(raw)) items = raw;
  else return null;
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return null;
    const name = item.trim().toLowerCase();
    if (name !== '' && !out.includes(name)) out.push(name);
  }
  return out;
}

export interface ListOptions {
  /** A name that stands for "nothing" (`none`): accepted alone, and then the list is `[]` or `[none]`. */
  none?: { name: string; keep: boolean };
  /** Whether an empty list is a valid value (e.g. "no instrumentation disabled"). */
  allowEmpty?: boolean;
  /**
   * Keep unknown names (still warned about): instrumentation names, because users can add their
   * own with `registerInstrumentation`, which the configuration cannot know about.
   */
  keepUnknown?: boolean;
}

/**
 * A list of known names. Unknown entries are dropped with one warning naming each (with the closest
 * known name) and the rest is kept, because one typo should not switch the whole setting back.
 * When nothing valid remains, the value is rejected and the next source applies.
 */
/** What a user-registered instrumentation name can look like. */
const NAME_LIKE = /^[a-z0-9@][a-z0-9@/._-]{0,63}$/;

export function nameListParser(names: readonly string[], what: string, opts: ListOptions = {}): Parser<string[]> {
  const all = opts.none ? [...names, opts.none.name] : names;
  return {
    expected: `a comma-separated list of ${all.join(', ')}`,
    parse(raw) {
      const entries = listEntries(raw);
      if (entries === null) return bad();
      const known: string[] = [];
      const unknown: string[] = [];
      for (const e of entries) (all.includes(e) ? known : unknown).push(e);
      const kept = opts.keepUnknown ? unknown.filter((u) => NAME_LIKE.test(u)) : [];
      const problems = unknown.map((u) => `unknown ${what} "${u}"${didYouMean(u, all)}${kept.includes(u) ? ' (kept, in case it is one you registered yourself)' : ''}`);
      known.push(...kept);
      const none = opts.none;
      if (none && known.includes(none.name)) {
        if (known.length > 1) {
          problems.push(`"${none.name}" cannot be combined with other names`);
          known.splice(known.indexOf(none.name), 1);
        } else {
          return ok(none.keep ? [none.name] : [], problems.length > 0 ? problems.join(', ') : undefined);
        }
      }
      if (known.length === 0 && !(opts.allowEmpty && unknown.length === 0)) {
        return bad(problems.length > 0 ? problems.join(', ') : undefined);
      }
      return ok(known, problems.length > 0 ? problems.join(', ') : undefined);
    },
  };
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface MapOptions {
  /** What a key is, for the expected text (`header name`, `host`). */
  key: string;
  /** Restricts keys (e.g. to HTTP header names); returns the normalized key or null. */
  normalizeKey?: (key: string) => string | null;
  /** Whether file values may be numbers and booleans (tags) or must be strings. */
  scalars?: boolean;
}

/**
 * `k=v,k2=v2` (env) or a JSON object (file) into a null-prototype record, so keys such as
 * `__proto__` are plain data. Values are percent-decoded, as OTEL_* lists are, so a comma can be
 * written `%2C`. One malformed entry rejects the whole value: a half-applied header set or tag set
 * is harder to notice than a warning and the default.
 */
export function mapParser<V extends string | number | boolean>(opts: MapOptions): Parser<Record<string, V>> {
  const valueKind = opts.scalars ? 'a string, number or boolean' : 'a string';
  return {
    expected: `${opts.key}=value pairs separated by commas (in the config file: an object whose values are ${valueKind})`,
    parse(raw) {
      const out: Record<string, V> = Object.create(null);
      const put = (rawKey: string, value: V): boolean => {
        const trimmed = rawKey.trim();
        const key = opts.normalizeKey ? opts.normalizeKey(trimmed) : trimmed || null;
        if (key === null || key === '') return false;
        if (typeof value === 'string' && /[\r\n\0]/.test(value)) return false;
        out[key] = value;
        return true;
      };
      if (typeof raw === 'string') {
        for (const part of raw.split(',')) {
          if (part.trim() === '') continue;
          const eq = part.indexOf('=');
          if (eq <= 0) return bad();
          if (!put(decode(part.slice(0, eq)), decode(part.slice(eq + 1).trim()) as V)) return bad();
        }
        return ok(out);
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return bad();
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        const scalarOk = typeof v === 'string' || (opts.scalars === true && (typeof v === 'number' || typeof v === 'boolean'));
        if (!scalarOk || !put(k, v as V)) return bad();
      }
      return ok(out);
    },
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray % is more likely meant literally than an error worth rejecting the value for.
    return text;
  }
}

/** Keys of exporter headers: HTTP token characters, lower-cased. */
export function headerKey(key: string): string | null {
  return HEADER_NAME.test(key) ? key.toLowerCase() : null;
}

/** Keys of the peer-service map: a host name, optionally with `:port`, lower-cased. */
export function hostKey(key: string): string | null {
  return /^[A-Za-z0-9._\-[\]:]+$/.test(key) ? key.toLowerCase() : null;
}

/** An absolute http(s) URL. */
export const urlParser: Parser<string> = {
  expected: 'an absolute http:// or https:// URL',
  parse(raw) {
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') return bad();
    try {
      const url = new URL(text);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad();
      return ok(text);
    } catch {
      return bad();
    }
  },
};
