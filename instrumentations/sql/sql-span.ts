import type { Span } from '../../src/agent/instrumentation.js';
import { callbackInScope, startDbSpan, type DbContext } from '../db-common/client-span.js';
import { describeSql, type SqlDialect } from './sql-statement.js';

/**
 * Where a SQL driver keeps its connection settings (pg's `connectionParameters`, mysql2's `config`):
 * read defensively, since they are the driver's internals and a field may be missing or of another type.
 */
export interface SqlConnectionSettings {
  database?: unknown;
  user?: unknown;
  host?: unknown;
  port?: unknown;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Starts the client span of one SQL query (or returns null when none should exist; see `startDbSpan`). */
export function startSqlSpan(
  ctx: DbContext,
  component: 'pg' | 'mysql2',
  dialect: SqlDialect,
  settings: SqlConnectionSettings | undefined,
  sql: unknown,
  parent: Span | null,
): Span | null {
  const { operation, statement } = describeSql(sql, dialect, ctx.options.statement);
  const port = settings?.port;
  return startDbSpan(
    ctx,
    operation,
    {
      component,
      dbType: 'sql',
      instance: text(settings?.database),
      user: text(settings?.user),
      statement,
      hostname: text(settings?.host),
      port: typeof port === 'number' ? port : typeof port === 'string' ? Number(port) : undefined,
    },
    parent,
  );
}

type AnyFunction = (this: any, ...args: any[]) => unknown;

/**
 * Wraps a pool's checkout (`pg` `pool.connect(cb)`, mysql2 `pool.getConnection(cb)`): a waiting
 * caller is called back from the release of another request's connection, so its callback is given
 * back its own context. Promise forms and calls outside a trace pass straight through.
 */
export function makePoolCheckoutWrapper(ctx: DbContext) {
  const tracer = ctx.tracer;
  return (original: AnyFunction): AnyFunction =>
    function poolCheckoutWithTrace(this: unknown, callback?: unknown): unknown {
      if (typeof callback !== 'function') return original.apply(this, arguments as unknown as unknown[]);
      const active = tracer.scopeManager.active();
      if (active === null) return original.apply(this, arguments as unknown as unknown[]);
      return original.call(this, callbackInScope(tracer, active.span, callback as AnyFunction));
    };
}
