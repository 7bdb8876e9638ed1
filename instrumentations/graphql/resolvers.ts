/*
 * Resolver spans (`"resolverSpans": true`), made only where they pay:
 * - only fields whose resolver the app wrote get one: a field without `resolve` in the schema is read
 *   by graphql's default resolver (a property lookup) and is never wrapped;
 * - one span per field PATH, list positions collapsed: `users.*.posts` is one span however many users
 *   the list holds, tagged with how many calls it covers, from the first call's start to the last
 *   call's end — a 10,000-item list makes as many spans as the query has fields with resolvers;
 * - nothing deeper than `resolverDepth` (root fields are depth 1);
 * - the span is active while its resolver runs, so the queries and requests it makes are its children;
 *   its parent is the span of the nearest enclosing field that has one, else the operation span.
 * The resolver is called exactly as without the agent (same `this`, arguments, result, throw).
 */
import type { GraphqlTracing, Span } from './operation.js';
import { operationOf } from './operation.js';
import { recordGraphqlErrors } from './errors.js';

/** A resolver wrapper of ours, and the resolver it calls. */
const ORIGINAL = Symbol('acme.tracing.graphqlResolver');
const wrappedSchemas = new WeakSet<object>();

interface PathLike {
  prev?: PathLike;
  key?: unknown;
}
interface InfoLike {
  path?: PathLike;
  fieldName?: unknown;
  returnType?: unknown;
  parentType?: { name?: unknown };
}

/** The collapsed path of a field (`users.*.posts`), or null beyond the depth limit. */
export function collapsedPath(path: PathLike | undefined, maxDepth: number): string | null {
  const parts: string[] = [];
  let depth = 0;
  for (let p = path; p !== undefined && p !== null; p = p.prev) {
    if (typeof p.key === 'number') parts.push('*');
    else {
      if (++depth > maxDepth) return null;
      parts.push(String(p.key));
    }
  }
  let out = parts[parts.length - 1] ?? '';
  for (let i = parts.length - 2; i >= 0; i--) out += `.${parts[i]}`;
  return out;
}

/** The enclosing field's collapsed path (`users.*.posts` → `users`), '' at the root. */
function parentPath(path: string): string {
  let cut = path.lastIndexOf('.');
  if (cut === -1) return '';
  let rest = path.slice(0, cut);
  while (rest.endsWith('.*') || rest === '*') {
    cut = rest.lastIndexOf('.');
    rest = cut === -1 ? '' : rest.slice(0, cut);
  }
  return rest;
}

interface FieldSpan {
  span: Span;
  calls: number;
  pending: number;
  end: number;
  errors: unknown[] | null;
}

/** The resolver spans of one operation, by collapsed path. */
export class FieldSpans {
  private readonly byPath = new Map<string, FieldSpan>();
  constructor(private readonly g: GraphqlTracing, private readonly operation: Span) {}

  /** The span for this call's field, started on its first call; null beyond the depth limit. */
  enter(info: InfoLike): FieldSpan | null {
    const path = collapsedPath(info.path, this.g.options.resolverDepth);
    if (path === null) return null;
    let field = this.byPath.get(path);
    if (field === undefined) {
      let parent: Span = this.operation;
      for (let p = parentPath(path); p !== ''; p = parentPath(p)) {
        const found = this.byPath.get(p);
        if (found !== undefined) {
          parent = found.span;
          break;
        }
      }
      const span = this.g.tracer.startSpan(`resolve ${path}`, { childOf: parent });
      if (span.isRecording()) {
        span.setTag('component', 'graphql');
        span.setTag('graphql.field.path', path);
        if (typeof info.fieldName === 'string') span.setTag('graphql.field.name', info.fieldName);
        if (info.returnType !== undefined) span.setTag('graphql.field.type', String(info.returnType));
        const parentType = info.parentType?.name;
        if (typeof parentType === 'string') span.setTag('graphql.parent.type', parentType);
      }
      field = { span, calls: 0, pending: 0, end: 0, errors: null };
      this.byPath.set(path, field);
    }
    field.calls++;
    return field;
  }

  settle(field: FieldSpan, error: unknown, failed: boolean): void {
    field.end = this.g.now();
    if (failed) (field.errors ??= []).push(error);
  }

  /** Ends every resolver span at its last call's end (the operation is done). */
  finishAll(): void {
    const now = this.g.now();
    for (const field of this.byPath.values()) {
      const span = field.span;
      if (span.isRecording()) {
        span.setTag('graphql.field.calls', field.calls);
        if (field.errors !== null) recordGraphqlErrors(span, field.errors, new Set<string>());
      }
      span.finish(field.pending > 0 || field.end === 0 ? now : field.end);
    }
    this.byPath.clear();
  }
}

type Resolver = (this: unknown, source: unknown, args: unknown, context: unknown, info: unknown) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function wrapResolver(g: GraphqlTracing, original: Resolver): Resolver {
  const scopes = g.tracer.scopeManager;
  const wrapped = function resolveWithTrace(this: unknown, source: unknown, args: unknown, context: unknown, info: unknown): unknown {
    let field: FieldSpan | null = null;
    let fields: FieldSpans | null = null;
    try {
      fields = operationOf(g.tracer.activeSpan())?.fields ?? null;
      if (fields !== null) field = fields.enter(info as InfoLike);
    } catch (err) {
      g.log.warnOnce('graphql-resolver', `internal error in the graphql resolver wrapper, carrying on without it: ${String(err)}`);
      field = null;
    }
    if (field === null || fields === null) return original.call(this, source, args, context, info);
    const self = this;
    const f = field;
    const list = fields;
    let result: unknown;
    f.pending++;
    try {
      result = scopes.run(f.span, () => original.call(self, source, args, context, info));
    } catch (err) {
      f.pending--;
      list.settle(f, err, true);
      throw err;
    }
    if (isThenable(result)) {
      // A second, separate chain: the app's promise is returned untouched, and our handlers never throw.
      Promise.resolve(result).then(
        () => {
          f.pending--;
          list.settle(f, undefined, false);
        },
        (err: unknown) => {
          f.pending--;
          list.settle(f, err, true);
        },
      );
    } else {
      f.pending--;
      list.settle(f, undefined, false);
    }
    return result;
  };
  Object.defineProperty(wrapped, ORIGINAL, { value: original });
  Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: original.length, configurable: true });
  return wrapped;
}

/**
 * Wraps the resolvers the app wrote in this schema, once per schema. Called from validate and
 * execute, whichever sees the schema first: before a server such as Apollo wraps every field for its
 * own plugins (then the fields without a resolver of their own would be indistinguishable).
 */
export function wrapSchemaResolvers(g: GraphqlTracing, schema: unknown): void {
  if (schema === null || typeof schema !== 'object' || wrappedSchemas.has(schema)) return;
  wrappedSchemas.add(schema);
  const getTypeMap = (schema as { getTypeMap?: unknown }).getTypeMap;
  if (typeof getTypeMap !== 'function') return;
  const types = getTypeMap.call(schema) as Record<string, unknown>;
  for (const typeName of Object.keys(types)) {
    if (typeName.startsWith('__')) continue;
    const type = types[typeName] as { getFields?: unknown; getInterfaces?: unknown } | null;
    // Object types only: they have interfaces; input objects do not, and their fields have no resolvers.
    if (type === null || typeof type !== 'object' || typeof type.getFields !== 'function' || typeof type.getInterfaces !== 'function') continue;
    const fields = (type.getFields as () => Record<string, { resolve?: unknown }>).call(type);
    for (const name of Object.keys(fields)) {
      const field = fields[name]!;
      const resolve = field.resolve;
      if (typeof resolve !== 'function' || (resolve as { [ORIGINAL]?: unknown })[ORIGINAL] !== undefined) continue;
      field.resolve = wrapResolver(g, resolve as Resolver);
    }
  }
}
