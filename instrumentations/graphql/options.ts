import type { InstrumentationContext } from '../../src/agent/instrumentation.js';

/** What the document tag holds: literals replaced (default), the text as the client sent it, or nothing. */
export type DocumentMode = 'redacted' | 'full' | 'off';

/**
 * The graphql instrumentation's options, from its section of the `TRACING_CONFIG` file:
 * `{ "instrumentations": { "graphql": { "resolverSpans": true, "resolverDepth": 4 } } }`.
 */
export interface GraphqlOptions {
  /** One span per field path whose resolver the app wrote (list items share one). Off by default. */
  resolverSpans: boolean;
  /** Fields deeper than this (root fields are depth 1) get no resolver span. Default 5. */
  resolverDepth: number;
  /** `graphql.document`: `redacted` (default, literals are `?`), `full` (as sent) or `off`. */
  document: DocumentMode;
  /** Record the request's variables as `graphql.variables` (JSON, cut at 1024 characters). Off by default. */
  variables: boolean;
  /**
   * Rename the request's server span after the operation (`POST /graphql query GetUser`). On by
   * default; when off the route name stays and the operation is only a tag of the server span.
   */
  renameServerSpan: boolean;
}

const DOCUMENT_MODES: readonly DocumentMode[] = ['redacted', 'full', 'off'];

/**
 * Reads and checks the options. A value of the wrong type gives one warning that names the option and
 * what it accepts, and the default is used.
 */
export function readGraphqlOptions(config: Readonly<Record<string, unknown>>, log: InstrumentationContext['log']): GraphqlOptions {
  const warn = (key: string, accepted: string): void =>
    log.warnOnce(`graphql-option:${key}`, `TRACING_CONFIG file: instrumentations.graphql.${key} = ${JSON.stringify(config[key])} is not valid (accepted: ${accepted}); using the default`);
  const bool = (key: string, fallback: boolean): boolean => {
    const v = config[key];
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    warn(key, 'true or false');
    return fallback;
  };
  let resolverDepth = 5;
  const depth = config.resolverDepth;
  if (depth !== undefined) {
    if (typeof depth === 'number' && Number.isInteger(depth) && depth >= 1 && depth <= 100) resolverDepth = depth;
    else warn('resolverDepth', 'a whole number from 1 to 100');
  }
  let document: DocumentMode = 'redacted';
  const mode = config.document;
  if (mode !== undefined) {
    if (typeof mode === 'string' && (DOCUMENT_MODES as readonly string[]).includes(mode)) document = mode as DocumentMode;
    else warn('document', DOCUMENT_MODES.join(', '));
  }
  return {
    resolverSpans: bool('resolverSpans', false),
    resolverDepth,
    document,
    variables: bool('variables', false),
    renameServerSpan: bool('renameServerSpan', true),
  };
}
