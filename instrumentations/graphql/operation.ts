/*
 * The operation span: one per executed GraphQL operation, named `query GetUser` (`query` when
 * anonymous), a child of whatever is active (the request's server span), active itself while graphql
 * runs the resolvers so that everything they await descends from it.
 *
 * Parse and validate are not spans of their own. They run before the operation is known (the name
 * comes out of parse), take microseconds, and do not run at all when a server reuses a cached
 * document (Apollo, mercurius, Yoga do), so as spans they would be orphans or noise that doubles or
 * triples the span count of every GraphQL request. Instead their timing is kept on the side, keyed
 * by the parsed document: the operation span starts where the parse (or validate) of this request
 * started, and carries `graphql.parse` / `graphql.validate` events with their duration. When parse
 * or validate fails there is no execute: the operation span is made then, marked as an error.
 */
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { documentOperations, MAX_DOCUMENT_LENGTH, redactedDocument, selectOperation, sniffOperation, type OperationInfo } from './document.js';
import { recordGraphqlErrors, requestValues } from './errors.js';
import type { GraphqlOptions } from './options.js';
import { FieldSpans } from './resolvers.js';

type Tracer = InstrumentationContext['tracer'];
export type Span = ReturnType<Tracer['startSpan']>;

/** What the three wrappers share: the tracer, the options, the clock. */
export interface GraphqlTracing {
  tracer: Tracer;
  options: GraphqlOptions;
  now: () => number;
  log: InstrumentationContext['log'];
}

/** Timing of the parse and validate of one document in one request, waiting for its execute. */
interface PhaseRecord {
  /** The span active when the document was parsed: only an execute under the same span takes the record. */
  parent: Span;
  start: number;
  parseMs: number;
  validateAt: number;
  validateMs: number;
}

const phases = new WeakMap<object, PhaseRecord>();

/** An operation being executed. */
export interface Operation {
  span: Span;
  document: unknown;
  variables: unknown;
  fields: FieldSpans | null;
}

/** Operation span → its state, for resolver wrappers (which find the operation through the active span). */
const operations = new WeakMap<Span, Operation>();

export function operationOf(span: Span | null): Operation | undefined {
  return span === null ? undefined : operations.get(span);
}

function operationName(info: OperationInfo | null): string {
  if (info === null) return 'graphql';
  return info.name === '' ? info.type : `${info.type} ${info.name}`;
}

/** Called after `parse` returned: remembers when it ran, for the operation span of this request. */
export function noteParsed(g: GraphqlTracing, document: unknown, start: number): void {
  if (document === null || typeof document !== 'object') return;
  const parent = g.tracer.activeSpan();
  if (parent === null || !parent.isRecording()) return;
  phases.set(document, { parent, start, parseMs: g.now() - start, validateAt: 0, validateMs: -1 });
}

/** Called after `validate` returned; a failed validation ends the request's operation here. */
export function noteValidated(g: GraphqlTracing, document: unknown, start: number, errors: unknown): void {
  if (document === null || typeof document !== 'object') return;
  const parent = g.tracer.activeSpan();
  if (parent === null || !parent.isRecording()) return;
  const end = g.now();
  let record = phases.get(document);
  if (record === undefined || record.parent !== parent) {
    record = { parent, start, parseMs: -1, validateAt: start, validateMs: end - start };
    phases.set(document, record);
  } else {
    record.validateAt = start;
    record.validateMs = end - start;
  }
  if (!Array.isArray(errors) || errors.length === 0) return;
  phases.delete(document);
  const ops = documentOperations(document);
  const info = ops.length === 1 ? ops[0]! : null;
  const span = startOperationSpan(g, info, parent, record);
  setDocumentTags(g, span, document, null);
  recordGraphqlErrors(span, errors, requestValues(document, undefined));
  span.finish(end);
}

/** Called when `parse` threw: a syntax error is the operation's outcome, reported on its span. */
export function noteSyntaxError(g: GraphqlTracing, source: unknown, start: number, err: unknown): void {
  const parent = g.tracer.activeSpan();
  if (parent === null || !parent.isRecording()) return;
  const span = startOperationSpan(g, sniffOperation(source), parent, { parent, start, parseMs: g.now() - start, validateAt: 0, validateMs: -1 });
  if (g.options.document === 'full') {
    const text = typeof source === 'string' ? source : (source as { body?: unknown } | null)?.body;
    if (typeof text === 'string') span.setTag('graphql.document', text.slice(0, MAX_DOCUMENT_LENGTH));
  }
  recordGraphqlErrors(span, [err], new Set<string>());
  span.finish();
}

function startOperationSpan(g: GraphqlTracing, info: OperationInfo | null, parent: Span | null, record: PhaseRecord | undefined): Span {
  const name = operationName(info);
  const span = g.tracer.startSpan(name, record === undefined ? undefined : { startTime: record.start });
  if (span.isRecording()) {
    span.setTag('component', 'graphql');
    if (info !== null) {
      span.setTag('graphql.operation.type', info.type);
      if (info.name !== '') span.setTag('graphql.operation.name', info.name);
    }
    if (record !== undefined) {
      if (record.parseMs >= 0) span.log({ event: 'graphql.parse', duration_ms: round(record.parseMs) }, record.start + record.parseMs);
      if (record.validateMs >= 0) span.log({ event: 'graphql.validate', duration_ms: round(record.validateMs) }, record.validateAt + record.validateMs);
    }
  }
  if (parent !== null) nameServerSpan(g, parent, info, name);
  return span;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function setDocumentTags(g: GraphqlTracing, span: Span, document: unknown, variables: unknown): void {
  if (!span.isRecording()) return;
  const mode = g.options.document;
  if (mode === 'redacted') {
    const text = redactedDocument(document);
    if (text !== null) span.setTag('graphql.document', text);
  } else if (mode === 'full') {
    const body = (document as { loc?: { source?: { body?: unknown } } } | null)?.loc?.source?.body;
    if (typeof body === 'string') span.setTag('graphql.document', body.slice(0, MAX_DOCUMENT_LENGTH));
  }
  if (g.options.variables && variables !== null && typeof variables === 'object') {
    try {
      span.setTag('graphql.variables', JSON.stringify(variables).slice(0, 1024));
    } catch {
      // Variables that do not serialize (cycles, BigInt) are left out.
    }
  }
}

const SERVER_NAMING = Symbol('acme.tracing.graphqlServerSpan');

interface NamedServerSpan {
  [SERVER_NAMING]?: { base: string; operations: number };
}

/**
 * The request's server span takes the operation's name after its route (`POST /graphql query
 * GetUser`): users of every tracer ask for their GraphQL endpoint to be listed per operation rather
 * than as one `POST /graphql`. The operation is also a tag of the server span, so with
 * `renameServerSpan: false` the route name stays and the operation can still be searched. A request
 * that runs several operations (batching) keeps the route name.
 */
function nameServerSpan(g: GraphqlTracing, parent: Span, info: OperationInfo | null, name: string): void {
  if (!parent.isRecording() || parent.tags['span.kind'] !== 'server') return;
  if (info !== null) {
    parent.setTag('graphql.operation.type', info.type);
    if (info.name !== '') parent.setTag('graphql.operation.name', info.name);
  }
  if (!g.options.renameServerSpan) return;
  const holder = parent as unknown as NamedServerSpan;
  let state = holder[SERVER_NAMING];
  if (state === undefined) {
    state = { base: serverBaseName(parent), operations: 0 };
    Object.defineProperty(holder, SERVER_NAMING, { value: state, configurable: true });
  }
  state.operations++;
  parent.setOperationName(state.operations === 1 ? `${state.base} ${name}` : state.base);
}

/** The route name; a server span named by its method alone (no framework route) gets the URL's path. */
function serverBaseName(span: Span): string {
  const name = span.operationName;
  if (name.includes(' ')) return name;
  const url = span.tags['http.url'];
  if (typeof url !== 'string') return name;
  try {
    return `${name} ${new URL(url).pathname}`;
  } catch {
    return name;
  }
}

/** The arguments of `execute`, in either of graphql 15's forms (an object, or positional). */
export interface ExecuteArgs {
  schema: unknown;
  document: unknown;
  variableValues: unknown;
  operationName: unknown;
}

export function readExecuteArgs(args: IArguments | unknown[]): ExecuteArgs | null {
  const first = args[0] as Record<string, unknown> | undefined;
  if (first === null || typeof first !== 'object') return null;
  if (args.length === 1 && 'document' in first) {
    return { schema: first.schema, document: first.document, variableValues: first.variableValues, operationName: first.operationName };
  }
  return { schema: first, document: args[1], variableValues: args[4], operationName: args[5] };
}

/** Starts the span of an operation about to execute, or returns null (nothing active to trace under is fine: a root span). */
export function startOperation(g: GraphqlTracing, args: ExecuteArgs): Operation | null {
  const document = args.document;
  if (document === null || typeof document !== 'object') return null;
  const parent = g.tracer.activeSpan();
  let record = phases.get(document);
  if (record !== undefined) {
    // Another request's record (a cached document parsed by a concurrent request) is left for it.
    if (record.parent === parent) phases.delete(document);
    else record = undefined;
  }
  const info = selectOperation(document, args.operationName);
  const span = startOperationSpan(g, info, parent, record);
  setDocumentTags(g, span, document, args.variableValues);
  const op: Operation = { span, document, variables: args.variableValues, fields: null };
  if (span.isRecording()) {
    if (g.options.resolverSpans) op.fields = new FieldSpans(g, span);
    operations.set(span, op);
  }
  return op;
}

/** Ends the operation with graphql's result (its `errors` recorded) or with what execute threw. */
export function finishOperation(g: GraphqlTracing, op: Operation, result: unknown, thrown: boolean): void {
  const span = op.span;
  try {
    if (thrown) recordGraphqlErrors(span, [result], requestValues(op.document, op.variables));
    else {
      const errors = (result as { errors?: unknown } | null)?.errors;
      if (Array.isArray(errors) && errors.length > 0) recordGraphqlErrors(span, errors, requestValues(op.document, op.variables));
    }
    op.fields?.finishAll();
  } finally {
    span.finish();
  }
}
