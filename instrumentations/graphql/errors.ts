/*
 * GraphQL errors on the operation span: one log per error (message, path, locations), at most
 * MAX_RECORDED_ERRORS of them, and the count as a tag.
 *
 * graphql-js writes the offending value into several of its messages (`Variable "$id" got invalid value
 * "x"`, `Int cannot represent non-integer value: "x"`, `Expected Name, found String "x"`). Those phrases
 * are replaced by `?`, and so is every value the client sent in the request's variables or literals
 * wherever it appears in a message, so what a client typed never reaches the span through an error.
 */
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { literalValues } from './document.js';

type Span = ReturnType<InstrumentationContext['tracer']['startSpan']>;

export const MAX_RECORDED_ERRORS = 10;
const MAX_MESSAGE_LENGTH = 1024;

/** The parts of a GraphQLError this file reads. */
interface GraphqlErrorLike {
  message?: unknown;
  name?: unknown;
  path?: unknown;
  locations?: unknown;
  originalError?: unknown;
  extensions?: unknown;
}

// Phrases of graphql-js (15 and 16) that quote a value the client sent; the value is what follows.
const VALUE_PHRASES: readonly RegExp[] = [
  // `Variable "$x" got invalid value <inspect(value)>; <reason>` — the value may hold anything up to the reason.
  /(got invalid value )[\s\S]*?(?=; [A-Z]|$)/g,
  // `Int cannot represent non-integer value: "x"`, `ID cannot represent value: {...}`, custom scalars likewise.
  /(represent [^:]{0,60}value: )(?:"(?:[^"\\]|\\.)*"|[^;]*?)(?=\.?(?:;|$))/g,
  // `Expected value of type "Int!", found "x"; ...` (validation) and `Expected type "Int", found "x".` (15).
  // A punctuator (`found "{"`) or the end of the document is no value and stays.
  /(, found )(?!<EOF>|"(?:[!$&():=@[\]{}|]|\.\.\.)")(?:"(?:[^"\\]|\\.)*"|(?:String|BlockString|Int|Float) "(?:[^"\\]|\\.)*"|[^;]*?)(?=\.?(?:;|$))/g,
  // Syntax errors that name the unexpected token with its text: `Unexpected String "x"`, `Unexpected Int "1"`.
  /((?:Unexpected|found) (?:String|BlockString|Int|Float) )"(?:[^"\\]|\\.)*"/g,
  // `Value "X" does not exist in "Color" enum.`
  /(Value )"(?:[^"\\]|\\.)*"(?= does not exist)/g,
  // `Enum "Color" cannot represent non-enum value: X.` is caught above; `Invalid number, ...: "1"` is one character.
];

/**
 * The message with the values of this request removed: graphql-js's value phrases first, then any
 * remaining occurrence of a value the client sent (quoted or bare, at least two characters long, or
 * quoted at any length).
 */
export function redactMessage(message: string, secrets: ReadonlySet<string>): string {
  let out = message.length > MAX_MESSAGE_LENGTH ? message.slice(0, MAX_MESSAGE_LENGTH) : message;
  for (const phrase of VALUE_PHRASES) out = out.replace(phrase, '$1?');
  for (const secret of secrets) {
    if (secret === '') continue;
    const quoted = JSON.stringify(secret);
    if (out.includes(quoted)) out = out.split(quoted).join('"?"');
    if (secret.length >= 2 && out.includes(secret)) out = out.split(secret).join('?');
  }
  return out;
}

/** Every scalar in the request's variables (as text), and every literal of the document. */
export function requestValues(document: unknown, variables: unknown): Set<string> {
  const out = new Set<string>();
  literalValues(document, out);
  collectVariableValues(variables, out, 0);
  return out;
}

function collectVariableValues(value: unknown, out: Set<string>, depth: number): void {
  if (depth > 20 || out.size > 1000) return;
  if (typeof value === 'string') out.add(value);
  else if (typeof value === 'number' || typeof value === 'bigint') out.add(String(value));
  else if (value !== null && typeof value === 'object') {
    if (Array.isArray(value)) for (const v of value) collectVariableValues(v, out, depth + 1);
    else for (const key of Object.keys(value)) collectVariableValues((value as Record<string, unknown>)[key], out, depth + 1);
  }
}

function describePath(path: unknown): string | undefined {
  if (!Array.isArray(path) || path.length === 0) return undefined;
  return path.map((p) => String(p)).join('.');
}

function describeLocations(locations: unknown): string | undefined {
  if (!Array.isArray(locations) || locations.length === 0) return undefined;
  const parts: string[] = [];
  for (const l of locations as Array<{ line?: unknown; column?: unknown }>) {
    if (l !== null && typeof l === 'object' && typeof l.line === 'number') parts.push(`${l.line}:${String(l.column)}`);
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * Records GraphQL errors on `span`: error=true, `graphql.errors.count`, and one `error` log each
 * (kind, redacted message, `graphql.error.path` and `graphql.error.locations` when known). A stack is
 * kept only for errors a resolver threw (the `originalError`), where it points at the user's code.
 */
export function recordGraphqlErrors(span: Span, errors: readonly unknown[], secrets: ReadonlySet<string>): void {
  if (!span.isRecording() || errors.length === 0) return;
  span.setTag('error', true);
  span.setTag('graphql.errors.count', errors.length);
  const n = Math.min(errors.length, MAX_RECORDED_ERRORS);
  for (let i = 0; i < n; i++) {
    const e = errors[i] as GraphqlErrorLike | null;
    const fields: Record<string, unknown> = { event: 'error' };
    if (e === null || typeof e !== 'object') {
      fields['error.kind'] = typeof e;
      fields.message = redactMessage(String(e), secrets);
      span.log(fields);
      continue;
    }
    const original = e.originalError as GraphqlErrorLike & { stack?: unknown } | undefined;
    const kind = original !== undefined && original !== null && typeof original.name === 'string' ? original.name : typeof e.name === 'string' ? e.name : 'GraphQLError';
    fields['error.kind'] = kind;
    fields.message = redactMessage(typeof e.message === 'string' ? e.message : String(e.message), secrets);
    const path = describePath(e.path);
    if (path !== undefined) fields['graphql.error.path'] = path;
    const locations = describeLocations(e.locations);
    if (locations !== undefined) fields['graphql.error.locations'] = locations;
    if (original !== undefined && original !== null && typeof original.stack === 'string') fields.stack = redactMessage(original.stack, secrets);
    span.log(fields);
  }
}
