import type { DbStatementMode } from '../../src/agent/instrumentation.js';

/**
 * The SQL a span may carry: `sanitizeSql` replaces every literal (strings, numbers, dollar-quoted
 * bodies, hex and bit strings) with `?` and drops comments, keeping placeholders (`$1`, `?`, `:name`),
 * identifiers and keywords; `sqlOperationName` gives the span's name (`SELECT users`).
 *
 * One pass, left to right, no regular expressions on the input and no backtracking: the cost is
 * linear in the input, and the scan stops once the output reaches the cap. Anything it cannot make
 * sense of (an unterminated quote or comment) is replaced up to the end, so a parsing surprise hides
 * more, never less.
 */

/** Which rules apply to quotes and comments: PostgreSQL's or MySQL/MariaDB's. */
export type SqlDialect = 'postgres' | 'mysql';

/** The longest statement recorded; longer ones are cut and end with `TRUNCATED_MARK`. */
export const MAX_STATEMENT_LENGTH = 2000;
/** Appended to a statement that was cut at the cap. */
export const TRUNCATED_MARK = ' …[truncated]';

const enum Ch {
  Tab = 9, Newline = 10, Return = 13, Space = 32, Bang = 33, DoubleQuote = 34, Hash = 35, Dollar = 36,
  Percent = 37, Amp = 38, Quote = 39, OpenParen = 40, CloseParen = 41, Star = 42, Plus = 43, Comma = 44,
  Minus = 45, Dot = 46, Slash = 47, Zero = 48, Nine = 57, Colon = 58, Lt = 60, Eq = 61, Gt = 62,
  Question = 63, UpperA = 65, UpperE = 69, UpperZ = 90, Backslash = 92, Caret = 94, Underscore = 95,
  Backtick = 96, LowerA = 97, LowerE = 101, LowerZ = 122, Pipe = 124, Tilde = 126,
}

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}
function isWordStart(c: number): boolean {
  return (c >= Ch.LowerA && c <= Ch.LowerZ) || (c >= Ch.UpperA && c <= Ch.UpperZ) || c === Ch.Underscore || c >= 0x80;
}
function isWordPart(c: number): boolean {
  return isWordStart(c) || isDigit(c) || c === Ch.Dollar;
}
function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Tab || c === Ch.Newline || c === Ch.Return || c === 11 || c === 12;
}
/** After one of these, a `-` in front of a number is a sign, not a subtraction. */
function takesOperand(c: number): boolean {
  return (
    c === -1 || c === Ch.OpenParen || c === Ch.Comma || c === Ch.Eq || c === Ch.Lt || c === Ch.Gt || c === Ch.Bang ||
    c === Ch.Plus || c === Ch.Minus || c === Ch.Star || c === Ch.Slash || c === Ch.Percent || c === Ch.Pipe ||
    c === Ch.Amp || c === Ch.Caret || c === Ch.Tilde
  );
}

/**
 * End (exclusive) of a quoted run starting at `start` (the opening quote): `''` (doubled quote)
 * never ends it; with `backslash`, neither does a quote after `\`. Unterminated: the input's length.
 */
function endOfQuoted(sql: string, start: number, quote: number, backslash: boolean): number {
  const n = sql.length;
  let i = start + 1;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslash && c === Ch.Backslash) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (i + 1 < n && sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** End of a block comment; PostgreSQL nests them, MySQL does not. Unterminated: the input's length. */
function endOfBlockComment(sql: string, start: number, nested: boolean): number {
  const n = sql.length;
  let depth = 1;
  let i = start + 2;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === Ch.Star && sql.charCodeAt(i + 1) === Ch.Slash) {
      i += 2;
      if (--depth === 0) return i;
    } else if (nested && c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Star) {
      i += 2;
      depth++;
    } else i++;
  }
  return n;
}

function endOfLine(sql: string, start: number): number {
  const nl = sql.indexOf('\n', start);
  return nl === -1 ? sql.length : nl;
}

/** `$tag$` at `start`: the tag's end (index after the second `$`), or -1 when this is no dollar quote. */
function dollarTagEnd(sql: string, start: number): number {
  const n = sql.length;
  let i = start + 1;
  if (i < n && sql.charCodeAt(i) === Ch.Dollar) return i + 1;
  if (i >= n || !isWordStart(sql.charCodeAt(i))) return -1;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === Ch.Dollar) return i + 1;
    if (!isWordStart(c) && !isDigit(c)) return -1;
    i++;
  }
  return -1;
}

/** End of a numeric literal (digits, `.`, hex and binary digits, an exponent with its sign). */
function endOfNumber(sql: string, start: number): number {
  const n = sql.length;
  let i = start;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if ((c === Ch.Plus || c === Ch.Minus) && i > start) {
      const prev = sql.charCodeAt(i - 1);
      // A sign belongs to the number only right after its exponent marker (1e-5), not in 0x1e-5.
      if ((prev === Ch.LowerE || prev === Ch.UpperE) && !isHexPrefixed(sql, start)) {
        i++;
        continue;
      }
      return i;
    }
    if (isDigit(c) || c === Ch.Dot || c === Ch.Underscore || (c >= Ch.LowerA && c <= Ch.LowerZ) || (c >= Ch.UpperA && c <= Ch.UpperZ)) i++;
    else return i;
  }
  return n;
}

function isHexPrefixed(sql: string, start: number): boolean {
  const x = sql.charCodeAt(start + 1);
  return sql.charCodeAt(start) === Ch.Zero && (x === 120 || x === 88);
}

/**
 * `sql` with every literal replaced by `?` and comments removed; at most `maxLength` characters
 * (plus `TRUNCATED_MARK` when cut). Lists of `?` after `IN` become one: `IN (?)`. Never throws
 * for a string; anything else gives ''.
 */
export function sanitizeSql(sql: string, dialect: SqlDialect, maxLength = MAX_STATEMENT_LENGTH): string {
  if (typeof sql !== 'string') return '';
  const mysql = dialect === 'mysql';
  const n = sql.length;
  let out = '';
  let copyFrom = 0; // start of the pending run copied unchanged
  let lastSignificant = -1; // last non-space character code written (-1: nothing yet)
  let lastWordIsIn = false;
  let inList = 0; // 0: not in `IN (`; 1: after `IN (` waiting for the first `?`; 2: list of `?` so far
  let i = 0;

  const flush = (to: number): void => {
    if (to > copyFrom) out += sql.slice(copyFrom, to);
  };
  const replace = (from: number, to: number): void => {
    flush(from);
    copyFrom = to;
    if (inList === 2) {
      // Further values of an `IN (?, ?…)` list: drop them and the comma before.
      const comma = out.lastIndexOf(',');
      if (comma !== -1 && out.slice(comma + 1).trim() === '') out = out.slice(0, comma).trimEnd();
      else out += '?';
    } else out += '?';
    if (inList === 1) inList = 2;
    lastSignificant = Ch.Question;
  };

  while (i < n && out.length + (i - copyFrom) <= maxLength) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments go, replaced by one space so the words around them stay apart.
    if ((c === Ch.Minus && sql.charCodeAt(i + 1) === Ch.Minus) || (mysql && c === Ch.Hash)) {
      flush(i);
      const end = endOfLine(sql, i);
      out += ' ';
      i = copyFrom = end;
      continue;
    }
    if (c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Star) {
      flush(i);
      const end = endOfBlockComment(sql, i, !mysql);
      out += ' ';
      i = copyFrom = end;
      continue;
    }
    if (c === Ch.Quote) {
      // MySQL always honours backslash escapes in strings; PostgreSQL only in E'' strings (below).
      const end = endOfQuoted(sql, i, Ch.Quote, mysql);
      replace(i, end);
      i = end;
      continue;
    }
    if (c === Ch.DoubleQuote) {
      const end = endOfQuoted(sql, i, Ch.DoubleQuote, mysql);
      if (mysql) replace(i, end); // a string in MySQL; an identifier in PostgreSQL, kept
      else lastSignificant = c;
      i = end;
      continue;
    }
    if (c === Ch.Backtick) {
      i = endOfQuoted(sql, i, Ch.Backtick, false);
      lastSignificant = c;
      continue;
    }
    if (c === Ch.Dollar) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        // $1: a placeholder, kept.
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        lastSignificant = Ch.Question;
        if (inList === 1) inList = 0;
        continue;
      }
      const tagEnd = mysql ? -1 : dollarTagEnd(sql, i);
      if (tagEnd !== -1) {
        const close = sql.indexOf(sql.slice(i, tagEnd), tagEnd);
        const end = close === -1 ? n : close + (tagEnd - i);
        replace(i, end);
        i = end;
        continue;
      }
      i++;
      lastSignificant = c;
      continue;
    }
    if (isDigit(c) || (c === Ch.Dot && isDigit(sql.charCodeAt(i + 1)))) {
      const end = endOfNumber(sql, i);
      replace(i, end);
      i = end;
      continue;
    }
    if (c === Ch.Minus && takesOperand(lastSignificant) && (isDigit(sql.charCodeAt(i + 1)) || (sql.charCodeAt(i + 1) === Ch.Dot && isDigit(sql.charCodeAt(i + 2))))) {
      const end = endOfNumber(sql, i + 1);
      replace(i, end);
      i = end;
      continue;
    }
    if (isWordStart(c)) {
      const start = i;
      while (i < n && isWordPart(sql.charCodeAt(i))) i++;
      if (i < n && sql.charCodeAt(i) === Ch.Quote) {
        // A prefixed string: E'…' (backslash escapes), X'…', B'…', N'…', U&'…' is below, _utf8mb4'…'.
        const prefix = sql.charCodeAt(start);
        const backslash = mysql || (i - start === 1 && (prefix === Ch.LowerE || prefix === Ch.UpperE));
        const end = endOfQuoted(sql, i, Ch.Quote, backslash);
        replace(start, end);
        i = end;
        continue;
      }
      if (i < n && sql.charCodeAt(i) === Ch.Amp && sql.charCodeAt(i + 1) === Ch.Quote && i - start === 1) {
        const end = endOfQuoted(sql, i + 1, Ch.Quote, false);
        replace(start, end);
        i = end;
        continue;
      }
      lastWordIsIn = i - start === 2 && (sql.charCodeAt(start) | 32) === 105 && (sql.charCodeAt(start + 1) | 32) === 110;
      if (inList !== 0) inList = 0;
      lastSignificant = Ch.LowerA;
      continue;
    }
    // Punctuation and operators; `?` and `:name` placeholders fall through here and are kept.
    if (c === Ch.OpenParen) inList = lastWordIsIn ? 1 : 0;
    else if (c === Ch.Question) {
      if (inList === 2) {
        // `IN (?, ?, ?)` written by the app: keep only the first.
        replace(i, i + 1);
        i++;
        continue;
      }
      if (inList === 1) inList = 2;
    } else if (c !== Ch.Comma) inList = 0;
    lastWordIsIn = false;
    lastSignificant = c;
    i++;
  }
  if (i < n) {
    // Only what was scanned may be copied: the rest could start a literal.
    flush(Math.min(i, copyFrom + Math.max(0, maxLength - out.length)));
    return cut(out, maxLength).trimEnd() + TRUNCATED_MARK;
  }
  flush(n);
  out = out.trim();
  return out.length > maxLength ? cut(out, maxLength) + TRUNCATED_MARK : out;
}

/** `s` cut to `max` characters without splitting a surrogate pair. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return s.slice(0, end);
}

/** The statement as the app wrote it, only capped (for `TRACING_DB_STATEMENT=full`). */
export function capStatement(sql: string, maxLength = MAX_STATEMENT_LENGTH): string {
  return sql.length <= maxLength ? sql : cut(sql, maxLength) + TRUNCATED_MARK;
}

// Verbs whose table is the first name after one of these words.
const TABLE_AFTER: Readonly<Record<string, string>> = { SELECT: 'FROM', DELETE: 'FROM', INSERT: 'INTO', REPLACE: 'INTO', UPDATE: '', COPY: '', TRUNCATE: '' };
const MAX_NAME_SCAN = 1000;

/**
 * The span name for a statement: its verb, upper case, and for SELECT/INSERT/UPDATE/DELETE (also
 * REPLACE, COPY, TRUNCATE) the table when it is the first name after FROM/INTO/the verb at the top
 * level (`SELECT users`, `INSERT public.orders`). Expects sanitized SQL (no literals or comments);
 * reads at most the first 1,000 characters. '' when there is no verb (then name the span `QUERY`).
 */
export function sqlOperationName(sanitized: string): string {
  const n = Math.min(sanitized.length, MAX_NAME_SCAN);
  let i = 0;
  let verb = '';
  let wanted: string | undefined;
  let depth = 0;
  let takeNext = false;
  while (i < n) {
    const c = sanitized.charCodeAt(i);
    if (c === Ch.OpenParen) depth++;
    else if (c === Ch.CloseParen) depth--;
    if (takeNext && depth === 0 && (c === Ch.DoubleQuote || c === Ch.Backtick)) {
      const table = readName(sanitized, i, n);
      return table === '' ? verb : `${verb} ${table}`;
    }
    // FROM (subquery): no table name worth showing.
    if (takeNext && depth === 1 && c === Ch.OpenParen) return verb;
    if (!isWordStart(c)) {
      if (c === Ch.DoubleQuote || c === Ch.Backtick) i = endOfQuoted(sanitized, i, c, false);
      else i++;
      if (verb === '') return '';
      continue;
    }
    const start = i;
    while (i < n && isWordPart(sanitized.charCodeAt(i))) i++;
    if (verb === '') {
      if (i - start > 20) return '';
      verb = sanitized.slice(start, i).toUpperCase();
      wanted = TABLE_AFTER[verb];
      if (wanted === undefined) return verb;
      if (wanted === '') takeNext = true;
      continue;
    }
    if (depth !== 0) continue;
    const word = sanitized.slice(start, i).toUpperCase();
    if (takeNext) {
      // UPDATE ONLY t / TRUNCATE TABLE t / DELETE FROM ONLY t: skip the modifiers.
      if (word === 'ONLY' || word === 'TABLE' || word === 'LOW_PRIORITY' || word === 'IGNORE' || word === 'QUICK') continue;
      const table = readName(sanitized, start, n);
      return table === '' ? verb : `${verb} ${table}`;
    }
    if (word === wanted) takeNext = true;
  }
  return verb;
}

/** A possibly qualified, possibly quoted name at `start`, quotes removed; '' if there is none. */
function readName(s: string, start: number, n: number): string {
  let name = '';
  let i = start;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === Ch.DoubleQuote || c === Ch.Backtick) {
      const end = endOfQuoted(s, i, c, false);
      name += s.slice(i + 1, end - 1);
      i = end;
    } else if (isWordStart(c)) {
      const from = i;
      while (i < n && isWordPart(s.charCodeAt(i))) i++;
      name += s.slice(from, i);
    } else break;
    if (s.charCodeAt(i) !== Ch.Dot) break;
    name += '.';
    i++;
  }
  return name.length > 128 ? name.slice(0, 128) : name;
}

/** What a SQL span shows for one statement. */
export interface SqlDescription {
  /** The span name: `SELECT users`, `BEGIN`, or `QUERY` when there is no verb. */
  operation: string;
  /** The `db.statement` value, or undefined when the mode is `off`. */
  statement: string | undefined;
}

// Apps send the same few statements again and again: describe each once. Bounded; when full, it
// starts over (cheaper than an LRU, and a working set that fits keeps hitting).
const CACHE_LIMIT = 512;
const caches: Record<DbStatementMode, Record<SqlDialect, Map<string, SqlDescription>>> = {
  sanitized: { postgres: new Map(), mysql: new Map() },
  full: { postgres: new Map(), mysql: new Map() },
  off: { postgres: new Map(), mysql: new Map() },
};

/**
 * The span name and the `db.statement` for `sql` under `mode`: `sanitized` (literals → `?`), `full`
 * (as written, capped) or `off` (none). Bound parameters are never part of it: callers pass the
 * statement text only. Never throws.
 */
export function describeSql(sql: unknown, dialect: SqlDialect, mode: DbStatementMode): SqlDescription {
  if (typeof sql !== 'string') return { operation: 'QUERY', statement: undefined };
  const cache = caches[mode][dialect];
  let found = cache.get(sql);
  if (found !== undefined) return found;
  const sanitized = sanitizeSql(sql, dialect);
  found = {
    operation: sqlOperationName(sanitized) || 'QUERY',
    statement: mode === 'off' ? undefined : mode === 'full' ? capStatement(sql) : sanitized,
  };
  // Long statements are mostly one-off (generated bulk inserts): not worth keeping.
  if (sql.length <= MAX_STATEMENT_LENGTH) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, found);
  }
  return found;
}
