import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import type { Span } from '../../src/agent/instrumentation.js';
import type { DbStatementMode } from '../../src/agent/instrumentation.js';
import { callbackInScope, finishDbSpan, finishingCallback, readDbOptions, type DbContext, type DbOptions } from '../db-common/client-span.js';
import { makePoolCheckoutWrapper, startSqlSpan } from './sql-span.js';

/*
 * mysql2 3, patched on every version (see docs/db.md for why its diagnostics_channel events, published
 * since 3.20, are not used): one client span per `query` or `execute` of a connection, whatever the form
 * — callback (what `mysql2/promise` uses underneath, so one span per promise call), event emitter
 * (`conn.query(sql).on('result', …)`, `.stream()`), or a query command a pool hands over
 * (`pool.query`). The app's callback runs in the caller's context; so does the callback of
 * `pool.getConnection`, even when the pool hands over a connection another request released.
 * Statements from `prepare` get a span per `execute` too.
 * `db.statement` is made from the SQL text as the app wrote it, before mysql2 puts the values in.
 */

type AnyFunction = (this: any, ...args: any[]) => unknown;

interface ConnectionConfig {
  host?: unknown;
  port?: unknown;
  user?: unknown;
  database?: unknown;
}
interface MysqlConnection {
  config?: ConnectionConfig;
}
/** mysql2's Query/Execute command: an EventEmitter that ends with 'end' (after 'error' when it failed). */
interface Command {
  sql?: unknown;
  onResult?: unknown;
  emit?: unknown;
  on?: unknown;
}

/** Commands in emitter form whose span ends on their 'end' event. */
const openCommands = new WeakMap<object, { span: Span; mode: DbStatementMode; error: unknown }>();

function startQuerySpan(ctx: DbContext, conn: MysqlConnection, text: unknown, parent: Span | null): Span | null {
  return startSqlSpan(ctx, 'mysql2', 'mysql', conn.config, text, parent);
}

// One shared stand-in for an emitter-form command's `emit` (no closure per query): notes the
// error, finishes on 'end' before the app's listeners run, then the command's own `emit` is back.
function commandEmitWithTrace(this: Command, event: unknown, arg?: unknown): unknown {
  const call = openCommands.get(this);
  if (call !== undefined) {
    try {
      if (event === 'error') call.error = arg;
      else if (event === 'end') {
        openCommands.delete(this);
        delete this.emit;
        finishDbSpan(call.span, call.error, call.mode);
      }
    } catch {
      // Never in the way of the driver's own events.
    }
  }
  const emit = Object.getPrototypeOf(this)?.emit as AnyFunction;
  return emit.apply(this, arguments as unknown as unknown[]);
}

function observeCommand(command: unknown, span: Span, mode: DbStatementMode): void {
  const cmd = command as Command | null;
  if (cmd === null || typeof cmd !== 'object' || typeof cmd.emit !== 'function' || Object.prototype.hasOwnProperty.call(cmd, 'emit')) {
    // Not the command object we know: nothing to follow its end by.
    finishDbSpan(span);
    return;
  }
  openCommands.set(cmd, { span, mode, error: undefined });
  cmd.emit = commandEmitWithTrace;
}

/** `query` and `execute` share their argument forms: (sql|options[, values][, callback]). */
function makeCommandWrapper(ctx: DbContext) {
  const tracer = ctx.tracer;
  const options = ctx.options;
  return (original: AnyFunction): AnyFunction =>
    function commandWithTrace(this: MysqlConnection, sql: unknown, values?: unknown, callback?: unknown): unknown {
      const active = tracer.scopeManager.active();
      if ((active === null && !options.rootSpans) || sql === null || sql === undefined) {
        return original.apply(this, arguments as unknown as unknown[]);
      }
      const parent = active === null ? null : active.span;
      const text = typeof sql === 'object' ? (sql as Command).sql : sql;
      const span = startQuerySpan(ctx, this, text, parent);
      if (span === null) return original.apply(this, arguments as unknown as unknown[]);

      // A command built by the pool (`pool.query`) or by `mysql.createQuery`: it carries its callback.
      const command = sql as Command;
      if (typeof command === 'object' && typeof command.on === 'function') {
        if (typeof command.onResult === 'function') {
          command.onResult = finishingCallback(tracer, span, parent, command.onResult as AnyFunction, options.statement);
          return original.apply(this, arguments as unknown as unknown[]);
        }
        const result = original.apply(this, arguments as unknown as unknown[]);
        observeCommand(command, span, options.statement);
        return result;
      }
      let result: unknown;
      try {
        if (typeof values === 'function') return original.call(this, sql, finishingCallback(tracer, span, parent, values as AnyFunction, options.statement));
        if (typeof callback === 'function') return original.call(this, sql, values, finishingCallback(tracer, span, parent, callback as AnyFunction, options.statement));
        result = original.apply(this, arguments as unknown as unknown[]);
      } catch (err) {
        // Argument checks mysql2 makes before sending anything (bind values, a closed connection).
        if (!span.isFinished()) finishDbSpan(span, err, options.statement);
        throw err;
      }
      observeCommand(result, span, options.statement);
      return result;
    };
}

/**
 * `conn.prepare(sql, callback)` hands over a statement whose `execute` goes straight to the
 * connection's command queue, past `execute` of the connection: its class (not exported by mysql2)
 * is patched the first time one arrives. The callback runs in the caller's context.
 */
function makePrepareWrapper(ctx: DbContext) {
  const tracer = ctx.tracer;
  const executeWrapper = makeStatementExecuteWrapper(ctx);
  return (original: AnyFunction): AnyFunction =>
    function prepareWithTrace(this: unknown, options: unknown, callback?: unknown): unknown {
      if (typeof callback !== 'function') return original.apply(this, arguments as unknown as unknown[]);
      const active = tracer.scopeManager.active();
      const appCallback = active === null ? (callback as AnyFunction) : callbackInScope(tracer, active.span, callback as AnyFunction);
      return original.call(this, options, function (this: unknown, err: unknown, statement: unknown): unknown {
        if ((err === null || err === undefined) && statement !== null && typeof statement === 'object') {
          const proto = ownerOf(Object.getPrototypeOf(statement) as object | null, 'execute');
          // Already wrapped: `wrap` leaves it alone.
          if (proto !== null) ctx.wrap(proto, 'execute', executeWrapper as never);
        }
        return appCallback.apply(this, arguments as unknown as unknown[]);
      });
    };
}

interface PreparedStatement {
  query?: unknown;
  _connection?: MysqlConnection;
}

/** `statement.execute([values][, callback])` of a statement from `prepare`. */
function makeStatementExecuteWrapper(ctx: DbContext) {
  const tracer = ctx.tracer;
  const options = ctx.options;
  return (original: AnyFunction): AnyFunction =>
    function executeWithTrace(this: PreparedStatement, values?: unknown, callback?: unknown): unknown {
      const active = tracer.scopeManager.active();
      if (active === null && !options.rootSpans) return original.apply(this, arguments as unknown as unknown[]);
      const parent = active === null ? null : active.span;
      const span = startQuerySpan(ctx, this?._connection ?? {}, this?.query, parent);
      if (span === null) return original.apply(this, arguments as unknown as unknown[]);
      if (typeof values === 'function') return original.call(this, finishingCallback(tracer, span, parent, values as AnyFunction, options.statement));
      if (typeof callback === 'function') return original.call(this, values, finishingCallback(tracer, span, parent, callback as AnyFunction, options.statement));
      let result: unknown;
      try {
        result = original.apply(this, arguments as unknown as unknown[]);
      } catch (err) {
        finishDbSpan(span, err, options.statement);
        throw err;
      }
      observeCommand(result, span, options.statement);
      return result;
    };
}

/** The object on `proto`'s chain that owns `name` (mysql2 moved its methods into base classes in 3.x). */
function ownerOf(proto: object | null | undefined, name: string): Record<string, unknown> | null {
  let p = proto ?? null;
  while (p !== null && p !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return p as Record<string, unknown>;
    p = Object.getPrototypeOf(p) as object | null;
  }
  return null;
}

type ClassExport = { prototype?: object } | null | undefined;

/*
 * The connection and pool classes are patched where they are defined, as files: `mysql2/promise`
 * requires them directly (not the package's entry) in recent 3.x versions, and older ones keep
 * everything in these two files while newer ones move the methods into `lib/base/` classes, which
 * `ownerOf` finds on the prototype chain.
 */
export default defineInstrumentation<DbOptions>({
  options: readDbOptions,
  patch(exports: ClassExport, ctx, target) {
    const proto = exports?.prototype;
    if (target.file === 'lib/pool.js') {
      const pool = ownerOf(proto, 'getConnection');
      if (pool !== null) ctx.wrap(pool, 'getConnection', makePoolCheckoutWrapper(ctx) as never);
      return;
    }
    const connection = ownerOf(proto, 'query');
    if (connection !== null) ctx.wrap(connection, 'query', makeCommandWrapper(ctx) as never);
    const executor = ownerOf(proto, 'execute');
    if (executor !== null) ctx.wrap(executor, 'execute', makeCommandWrapper(ctx) as never);
    const preparer = ownerOf(proto, 'prepare');
    if (preparer !== null) ctx.wrap(preparer, 'prepare', makePrepareWrapper(ctx) as never);
  },
});
