import { defineInstrumentation, log, type InstrumentationContext } from '../../src/agent/instrumentation.js';
import { finishOperation, noteParsed, noteSyntaxError, noteValidated, readExecuteArgs, startOperation, type GraphqlTracing } from './operation.js';
import { readGraphqlOptions, type GraphqlOptions } from './options.js';
import { wrapSchemaResolvers } from './resolvers.js';

/*
 * graphql-js 15 and 16, which publish no diagnostics_channel events (17 does): the three files that
 * define `execute`, `parse` and `validate` are patched where they are defined, so every way of
 * reaching them sees the wrapper — `require('graphql')` (whose index re-exports them through
 * getters), `graphql/execution/execute.js` imported directly (as servers do), graphql's own
 * `graphql()`, and the ES-module build (`.mjs` files, matched by the same targets).
 * Apollo Server 4 and 5, mercurius and graphql-http call these functions; GraphQL Yoga calls graphql's
 * parse and validate and @graphql-tools/executor's execute, patched likewise.
 */

// The modules and their ranges are declared in instrumentations/index.ts; these are the files `patch` tells apart.
const EXECUTE = 'execution/execute.js';
// GraphQL Yoga (3 and later) executes with @graphql-tools/executor, a fork of graphql-js's execute
// (same arguments, same resolver calls), not with graphql-js's own: its execute is patched the same way.
const TOOLS_EXECUTE_CJS = 'cjs/execution/execute.js';
const TOOLS_EXECUTE_ESM = 'esm/execution/execute.js';
const PARSER = 'language/parser.js';
const VALIDATE = 'validation/validate.js';

let shared: GraphqlTracing | null = null;

function tracing(ctx: InstrumentationContext<GraphqlOptions>): GraphqlTracing {
  if (shared === null || shared.tracer !== ctx.tracer || shared.options !== ctx.options) {
    shared = { tracer: ctx.tracer, options: ctx.options, now: ctx.now, log: ctx.log };
  }
  return shared;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function internalError(g: GraphqlTracing, where: string, err: unknown): void {
  g.log.warnOnce(`graphql:${where}`, `internal error in the graphql instrumentation (${where}), carrying on without it: ${err instanceof Error ? err.message : String(err)}`);
}

function executeWrapper(g: GraphqlTracing) {
  return (original: AnyFunction): AnyFunction =>
    function executeWithTrace(this: unknown): unknown {
      let op: ReturnType<typeof startOperation> = null;
      try {
        const args = readExecuteArgs(arguments);
        if (args !== null) {
          if (g.options.resolverSpans) wrapSchemaResolvers(g, args.schema);
          op = startOperation(g, args);
        }
      } catch (err) {
        internalError(g, 'execute', err);
        op = null;
      }
      if (op === null) return original.apply(this, arguments as unknown as unknown[]);
      const operation = op;
      const self = this;
      const argv = arguments;
      let result: unknown;
      try {
        result = g.tracer.scopeManager.run(operation.span, () => original.apply(self, argv as unknown as unknown[]));
      } catch (err) {
        finishOperation(g, operation, err, true);
        throw err;
      }
      if (isThenable(result)) {
        Promise.resolve(result).then(
          (value) => finishOperation(g, operation, value, false),
          (err: unknown) => finishOperation(g, operation, err, true),
        );
      } else {
        finishOperation(g, operation, result, false);
      }
      return result;
    };
}

function parseWrapper(g: GraphqlTracing) {
  return (original: AnyFunction): AnyFunction =>
    function parseWithTrace(this: unknown, source: unknown): unknown {
      const start = g.now();
      let document: unknown;
      try {
        document = original.apply(this, arguments as unknown as unknown[]);
      } catch (err) {
        try {
          noteSyntaxError(g, source, start, err);
        } catch (own) {
          internalError(g, 'parse', own);
        }
        throw err;
      }
      try {
        noteParsed(g, document, start);
      } catch (own) {
        internalError(g, 'parse', own);
      }
      return document;
    };
}

function validateWrapper(g: GraphqlTracing) {
  return (original: AnyFunction): AnyFunction =>
    function validateWithTrace(this: unknown, schema: unknown, document: unknown): unknown {
      const start = g.now();
      try {
        if (g.options.resolverSpans) wrapSchemaResolvers(g, schema);
      } catch (own) {
        internalError(g, 'validate', own);
      }
      const errors = original.apply(this, arguments as unknown as unknown[]);
      try {
        noteValidated(g, document, start, errors);
      } catch (own) {
        internalError(g, 'validate', own);
      }
      return errors;
    };
}

/** Operation spans for graphql-js 15 and 16 (and @graphql-tools/executor), with optional resolver spans. */
export default defineInstrumentation<GraphqlOptions>({
  options: (raw) => readGraphqlOptions(raw, log),
  patch(exports, ctx, target) {
    const g = tracing(ctx);
    if (target.file === EXECUTE || target.file === TOOLS_EXECUTE_CJS || target.file === TOOLS_EXECUTE_ESM) ctx.wrap(exports, 'execute', executeWrapper(g) as never);
    else if (target.file === PARSER) ctx.wrap(exports, 'parse', parseWrapper(g) as never);
    else if (target.file === VALIDATE) ctx.wrap(exports, 'validate', validateWrapper(g) as never);
  },
});
