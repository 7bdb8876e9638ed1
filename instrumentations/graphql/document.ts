/*
 * What the graphql instrumentation reads from a parsed document: the operation that will run, and the
 * document as text with every literal value replaced by `?` (like a SQL statement's literals), so that
 * arguments written into the query (`user(email: "ann@example.com")`) never reach a span.
 *
 * The text is cut from the source the parser kept (`document.loc.source.body`) at the offsets of the
 * value nodes, so it needs no printer and costs one walk of the tree; it is cached per document object
 * (servers such as Apollo reuse the parsed document across requests) and per source text.
 */

/** The fields of graphql-js AST nodes this file reads (15 and 16 share them). */
export interface AstNode {
  kind: string;
  loc?: { start: number; end: number; source?: { body?: unknown } };
  [key: string]: unknown;
}

export interface OperationNode extends AstNode {
  operation?: unknown;
  name?: { value?: unknown };
}

export interface DocumentNode extends AstNode {
  definitions?: unknown;
}

/** The operation picked out of a document, as the span reports it. */
export interface OperationInfo {
  /** `query`, `mutation` or `subscription`. */
  type: string;
  /** '' when anonymous. */
  name: string;
}

const SCALAR_VALUE_KINDS = new Set(['StringValue', 'IntValue', 'FloatValue', 'BooleanValue', 'EnumValue', 'NullValue']);
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

function operationsOf(document: DocumentNode): OperationNode[] {
  const definitions = document.definitions;
  if (!Array.isArray(definitions)) return [];
  const out: OperationNode[] = [];
  for (const d of definitions as AstNode[]) if (d !== null && typeof d === 'object' && d.kind === 'OperationDefinition') out.push(d as OperationNode);
  return out;
}

function infoOf(node: OperationNode): OperationInfo | null {
  const type = node.operation;
  if (typeof type !== 'string' || !OPERATION_TYPES.has(type)) return null;
  const name = node.name?.value;
  return { type, name: typeof name === 'string' ? name : '' };
}

/**
 * The operation graphql-js will run: the one named `operationName`, or the only one. Null when the
 * choice is ambiguous or missing (graphql answers that with an error of its own).
 */
export function selectOperation(document: unknown, operationName: unknown): OperationInfo | null {
  if (document === null || typeof document !== 'object') return null;
  const operations = operationsOf(document as DocumentNode);
  if (typeof operationName === 'string' && operationName !== '') {
    for (const op of operations) if (op.name?.value === operationName) return infoOf(op);
    return null;
  }
  return operations.length === 1 ? infoOf(operations[0]!) : null;
}

/** Every operation in the document (for a failed validation, where no operation name is known). */
export function documentOperations(document: unknown): OperationInfo[] {
  if (document === null || typeof document !== 'object') return [];
  const out: OperationInfo[] = [];
  for (const op of operationsOf(document as DocumentNode)) {
    const info = infoOf(op);
    if (info !== null) out.push(info);
  }
  return out;
}

/**
 * The operation type and name as written at the start of a source that failed to parse, so a syntax
 * error is still reported under the operation the client meant (`{ ...` is an anonymous query).
 */
export function sniffOperation(source: unknown): OperationInfo | null {
  const text = typeof source === 'string' ? source : sourceBody(source);
  if (text === null) return null;
  const m = /^(?:\s|,|#[^\n\r]*)*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(text.slice(0, 512));
  if (m !== null) return { type: m[1]!, name: m[2] ?? '' };
  return /^(?:\s|,|#[^\n\r]*)*\{/.test(text.slice(0, 512)) ? { type: 'query', name: '' } : null;
}

/** A graphql `Source` object's text (`parse` accepts one as well as a string). */
function sourceBody(source: unknown): string | null {
  const body = source !== null && typeof source === 'object' ? (source as { body?: unknown }).body : undefined;
  return typeof body === 'string' ? body : null;
}

/** Documents already turned into text (the parsed object is reused by caching servers). */
const byDocument = new WeakMap<object, string | null>();
/** The same query text parsed again (servers that do not cache documents); bounded, oldest out first. */
const bySource = new Map<string, string | null>();
const SOURCE_CACHE_SIZE = 256;
/** Longer sources are not cached by text (256 of them could hold a lot of memory); their document object still is. */
const MAX_CACHED_SOURCE = 16_384;
/** Longest text recorded; a bigger document is cut, marked with a trailing `…`. */
export const MAX_DOCUMENT_LENGTH = 8192;

/**
 * The document with every literal (string, number, boolean, enum, null) replaced by `?`, comments
 * dropped and runs of white space folded into one space. Null when the parser kept no source
 * (`parse(source, { noLocation: true })`): then there is nothing safe to cut from.
 */
export function redactedDocument(document: unknown): string | null {
  if (document === null || typeof document !== 'object') return null;
  const cached = byDocument.get(document);
  if (cached !== undefined) return cached;
  const body = (document as DocumentNode).loc?.source?.body;
  let text: string | null = null;
  if (typeof body === 'string') {
    const known = bySource.get(body);
    if (known !== undefined) text = known;
    else {
      text = redact(document as DocumentNode, body);
      if (body.length <= MAX_CACHED_SOURCE) {
        if (bySource.size >= SOURCE_CACHE_SIZE) bySource.delete(bySource.keys().next().value as string);
        bySource.set(body, text);
      }
    }
  }
  byDocument.set(document, text);
  return text;
}

function redact(document: DocumentNode, body: string): string | null {
  const ranges: number[] = [];
  if (!collectValueRanges(document, ranges, 0)) return null;
  ranges.sort((a, b) => a - b);
  let out = '';
  let at = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i]!;
    const end = ranges[i + 1]!;
    if (start < at) continue;
    out += stripComments(body.slice(at, start)) + '?';
    at = end;
  }
  out += stripComments(body.slice(at));
  out = out.replace(/[\s,]+/g, (run) => (run.includes(',') ? ', ' : ' ')).trim();
  return out.length > MAX_DOCUMENT_LENGTH ? `${out.slice(0, MAX_DOCUMENT_LENGTH)}…` : out;
}

// Outside of literals (which are cut out before this runs), `#` always starts a comment.
function stripComments(text: string): string {
  return text.includes('#') ? text.replace(/#[^\n\r]*/g, '') : text;
}

/**
 * Pushes [start, end] of every scalar value node. Returns false when a value has no location (the
 * text could not be cut safely). Depth-bounded: graphql's own parser limits nesting far below this.
 */
function collectValueRanges(node: unknown, out: number[], depth: number): boolean {
  if (depth > 200) return false;
  if (Array.isArray(node)) {
    for (const child of node) if (!collectValueRanges(child, out, depth + 1)) return false;
    return true;
  }
  if (node === null || typeof node !== 'object') return true;
  const n = node as AstNode;
  if (typeof n.kind !== 'string') return true;
  if (SCALAR_VALUE_KINDS.has(n.kind)) {
    const loc = n.loc;
    if (loc === undefined || typeof loc.start !== 'number' || typeof loc.end !== 'number') return false;
    out.push(loc.start, loc.end);
    return true;
  }
  for (const key in n) {
    if (key === 'loc' || key === 'kind') continue;
    const child = n[key];
    if (child !== null && typeof child === 'object' && !collectValueRanges(child, out, depth + 1)) return false;
  }
  return true;
}

/**
 * The values the client sent in this document's literals: error messages of graphql-js quote them
 * (`Int cannot represent non-integer value: "abc"`), so they are searched for and replaced there.
 */
export function literalValues(document: unknown, out: Set<string>): void {
  collectLiterals(document, out, 0);
}

function collectLiterals(node: unknown, out: Set<string>, depth: number): void {
  if (depth > 200 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) collectLiterals(child, out, depth + 1);
    return;
  }
  const n = node as AstNode;
  if (n.kind === 'StringValue' || n.kind === 'IntValue' || n.kind === 'FloatValue' || n.kind === 'EnumValue') {
    if (typeof n.value === 'string') out.add(n.value);
    return;
  }
  for (const key in n) {
    if (key === 'loc') continue;
    const child = n[key];
    if (child !== null && typeof child === 'object') collectLiterals(child, out, depth + 1);
  }
}
