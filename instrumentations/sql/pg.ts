import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import type { Span } from '../../src/agent/instrumentation.js';
import type { DbStatementMode } from '../../src/agent/instrumentation.js';
import { finishDbSpan, finishingCallback, readDbOptions, type DbContext, type DbOptions } from '../db-common/client-span.js';
import { makePoolCheckoutWrapper, startSqlSpan } from './sql-span.js';

/*
 * pg 8 (node-postgres), which publishes no diagnostics_channel events, so it is patched:
 * - `Client.prototype.query` of the JavaScript client (`pg/lib/client.js`): one client span per call,
 *   whatever the form — callback, promise, config object (`text`/`values`/`name`/`rowMode`), or a
 *   submittable (`new pg.Query`, pg-cursor, pg-query-stream), which ends when the server says the
 *   query is over (ReadyForQuery) or fails. The app's callback runs in the caller's context.
 * - `Pool.prototype.connect` of pg-pool (which `pg.Pool` extends): its callback runs in the caller's
 *   context, even when the pool hands over a client another request released. `pool.query` goes
 *   through both, so it makes one span.
 * `pg.native` (pg-native) has its own client class and is left untouched.
 */

type AnyFunction = (this: any, ...args: any[]) => unknown;

interface ConnectionParameters {
  host?: unknown;
  port?: unknown;
  user?: unknown;
  database?: unknown;
}
interface PgClient {
  connectionParameters?: ConnectionParameters;
}
/** A query object pg drives through these methods (pg.Query, pg-cursor, pg-query-stream). */
interface Submittable {
  submit: unknown;
  text?: unknown;
  cursor?: { text?: unknown };
  handleReadyForQuery?: unknown;
  handleError?: unknown;
}

/** An open submittable's span and the methods we stood in for (own properties before, or absent). */
interface SubmittableCall {
  span: Span;
  mode: DbStatementMode;
  ready: PropertyDescriptor | undefined;
  error: PropertyDescriptor | undefined;
}
const openSubmittables = new WeakMap<object, SubmittableCall>();

function startQuerySpan(ctx: DbContext, client: PgClient, text: unknown, parent: Span | null): Span | null {
  return startSqlSpan(ctx, 'pg', 'postgres', client.connectionParameters, text, parent);
}

// Shared stand-ins for a submittable's two completion methods (no closure per query): finish the
// span, put the object's own methods back as they were, and call through.
function readyForQueryWithTrace(this: Submittable): unknown {
  const call = settleSubmittable(this, undefined);
  const original = call?.ready?.value ?? Object.getPrototypeOf(this)?.handleReadyForQuery;
  return (original as AnyFunction).apply(this, arguments as unknown as unknown[]);
}
function handleErrorWithTrace(this: Submittable, err: unknown): unknown {
  const call = settleSubmittable(this, err);
  const original = call?.error?.value ?? Object.getPrototypeOf(this)?.handleError;
  return (original as AnyFunction).apply(this, arguments as unknown as unknown[]);
}

function settleSubmittable(query: Submittable, err: unknown): SubmittableCall | undefined {
  const call = openSubmittables.get(query);
  if (call === undefined) return undefined;
  openSubmittables.delete(query);
  try {
    restore(query, 'handleReadyForQuery', call.ready);
    restore(query, 'handleError', call.error);
    // A callback handed over with the query may have finished it already.
    if (!call.span.isFinished()) finishDbSpan(call.span, err, call.mode);
  } catch {
    // Never in the way of the driver's own handling.
  }
  return call;
}

function restore(query: Submittable, name: 'handleReadyForQuery' | 'handleError', own: PropertyDescriptor | undefined): void {
  if (own === undefined) delete query[name];
  else Object.defineProperty(query, name, own);
}

function observeSubmittable(query: Submittable, span: Span, mode: DbStatementMode): boolean {
  if (typeof query.handleReadyForQuery !== 'function' || typeof query.handleError !== 'function' || openSubmittables.has(query)) return false;
  const ready = Object.getOwnPropertyDescriptor(query, 'handleReadyForQuery');
  const error = Object.getOwnPropertyDescriptor(query, 'handleError');
  // Read-only own methods (a frozen object): leave it alone.
  if ((ready !== undefined && ready.writable !== true) || (error !== undefined && error.writable !== true)) return false;
  openSubmittables.set(query, { span, mode, ready, error });
  query.handleReadyForQuery = readyForQueryWithTrace;
  query.handleError = handleErrorWithTrace;
  return true;
}

function makeQueryWrapper(ctx: DbContext) {
  const tracer = ctx.tracer;
  const options = ctx.options;
  return (original: AnyFunction): AnyFunction =>
    function queryWithTrace(this: PgClient, config: unknown, values?: unknown, callback?: unknown): unknown {
      // Outside any trace (a pool's start-up and idle work included) there is nothing to record.
      const active = tracer.scopeManager.active();
      if ((active === null && !options.rootSpans) || config === null || config === undefined) {
        return original.apply(this, arguments as unknown as unknown[]);
      }
      const parent = active === null ? null : active.span;
      const request = config as Submittable & { text?: unknown; callback?: unknown };

      if (typeof request.submit === 'function') {
        const text = request.text ?? request.cursor?.text;
        const span = startQuerySpan(ctx, this, text, parent);
        if (span === null) return original.apply(this, arguments as unknown as unknown[]);
        if (!observeSubmittable(request, span, options.statement)) finishDbSpan(span);
        // pg adopts a callback passed next to a submittable that has none of its own.
        if (typeof values === 'function' && request.callback == null) {
          return original.call(this, config, finishingCallback(tracer, span, parent, values as AnyFunction, options.statement));
        }
        if (typeof callback === 'function' && request.callback == null) {
          return original.call(this, config, values, finishingCallback(tracer, span, parent, callback as AnyFunction, options.statement));
        }
        return original.apply(this, arguments as unknown as unknown[]);
      }

      const text = typeof config === 'string' ? config : request.text;
      const span = startQuerySpan(ctx, this, text, parent);
      if (span === null) return original.apply(this, arguments as unknown as unknown[]);
      if (typeof values === 'function') {
        return original.call(this, config, finishingCallback(tracer, span, parent, values as AnyFunction, options.statement));
      }
      if (typeof callback === 'function') {
        return original.call(this, config, values, finishingCallback(tracer, span, parent, callback as AnyFunction, options.statement));
      }
      if (typeof config === 'object' && typeof request.callback === 'function') {
        // The callback inside the config object: hand pg a copy carrying ours (the app's object is untouched).
        const copy = { ...(config as object), callback: finishingCallback(tracer, span, parent, request.callback as AnyFunction, options.statement) };
        return original.call(this, copy, values);
      }
      let result: unknown;
      try {
        result = original.apply(this, arguments as unknown as unknown[]);
      } catch (err) {
        finishDbSpan(span, err, options.statement);
        throw err;
      }
      if (result === null || typeof result !== 'object' || typeof (result as Promise<unknown>).then !== 'function') {
        finishDbSpan(span);
        return result;
      }
      // The promise the app gets settles exactly like pg's, with the same value or error object.
      return (result as Promise<unknown>).then(
        (value) => {
          finishDbSpan(span);
          return value;
        },
        (err: unknown) => {
          finishDbSpan(span, err, options.statement);
          throw err;
        },
      );
    };
}

export default defineInstrumentation<DbOptions>({
  options: readDbOptions,
  patch(exports: unknown, ctx, target) {
    const proto = (exports as { prototype?: Record<string, unknown> } | null)?.prototype;
    if (proto === undefined || proto === null) return;
    if (target.name === 'pg') ctx.wrap(proto, 'query', makeQueryWrapper(ctx) as never);
    else ctx.wrap(proto, 'connect', makePoolCheckoutWrapper(ctx) as never);
  },
});
