import {
  recordError, type AgentSettings, type DbStatementMode, type InstrumentationContext, type Span, type Tracer,
} from '../../src/agent/instrumentation.js';

/**
 * What every database client instrumentation (pg, mysql2, ioredis, redis) shares: the options it
 * reads, and how a query span starts and ends. The statement itself is made safe by the caller
 * (`sql-statement.ts`, `redis-statement.ts`); this file only decides whether a span exists at all.
 */

/**
 * The database options every database instrumentation reads (its `ctx.options`), validated. Its own
 * `peerServices` (in the same section) are applied by `ctx.startClientSpan`.
 */
export interface DbOptions {
  statement: DbStatementMode;
  rootSpans: boolean;
}

/** The context a database instrumentation's code receives. */
export type DbContext = InstrumentationContext<DbOptions>;

/**
 * The agent-wide database settings, unless the instrumentation's section of the config file sets
 * its own `dbStatement` or `dbRootSpans`; anything malformed there is ignored.
 */
export function readDbOptions(config: Readonly<Record<string, unknown>>, settings: AgentSettings): DbOptions {
  const mode = config.dbStatement;
  return {
    statement: mode === 'full' || mode === 'off' || mode === 'sanitized' ? mode : settings.dbStatement,
    rootSpans: typeof config.dbRootSpans === 'boolean' ? config.dbRootSpans : settings.dbRootSpans,
  };
}

/** The tags a database client span carries (OpenTracing names); undefined values are not set. */
export interface DbSpanTags {
  component: string;
  dbType: 'sql' | 'redis';
  instance?: string | number | undefined;
  user?: string | undefined;
  /** Already made safe for `options.statement` by the caller; ignored when the mode is `off`. */
  statement?: string | undefined;
  hostname?: string | undefined;
  port?: number | undefined;
}

/**
 * Starts a client span for one query or command (`ctx.startClientSpan`: kind, component, peer tags
 * and `peer.service`), child of the active span (or of `parent` when the caller has already looked
 * it up: null for none), or returns null when none should exist: tracing suppressed (the exporter's
 * own work), or no active span and root spans for database calls are off (a pool's health checks and
 * start-up queries then cost nothing).
 */
export function startDbSpan(ctx: DbContext, operation: string, tags: DbSpanTags, parent?: Span | null): Span | null {
  if (ctx.isSuppressed()) return null;
  const options = ctx.options;
  // A caller that already looked the active span up passes it: each lookup reads async context.
  const active = parent !== undefined ? parent : (ctx.tracer.scopeManager.active()?.span ?? null);
  if (!options.rootSpans && active === null) return null;
  const span = ctx.startClientSpan(operation, tags, active);
  const own = ctx.writableTags(span);
  if (own === null) return span;
  own['db.type'] = tags.dbType;
  if (tags.instance !== undefined && tags.instance !== '') own['db.instance'] = tags.instance;
  if (tags.user !== undefined && tags.user !== '') own['db.user'] = tags.user;
  if (tags.statement !== undefined && options.statement !== 'off') own['db.statement'] = tags.statement;
  return span;
}

/**
 * Finishes `span` once: with the error when there is one (`error=true`, kind, message, and the
 * driver's error code as `db.error.code` when it has one). The error object is only read, never changed.
 *
 * Database servers quote the offending value in their messages (`Incorrect integer value: 'secret'`,
 * `invalid input syntax for type integer: "secret"`), so unless `mode` is `full` the quoted parts of
 * the message (and of the stack's first line, which repeats it) are replaced by `?`.
 */
export function finishDbSpan(span: Span, err?: unknown, mode: DbStatementMode = 'sanitized'): void {
  if (err !== undefined && err !== null) {
    if (mode === 'full' || !(err instanceof Error)) recordError(span, err);
    else recordSanitizedError(span, err);
    const code = (err as { code?: unknown }).code;
    if (span.isRecording() && (typeof code === 'string' || typeof code === 'number')) span.setTag('db.error.code', code);
  }
  span.finish();
}

function recordSanitizedError(span: Span, err: Error): void {
  if (!span.isRecording()) return;
  span.setTag('error', true);
  const message = sanitizeErrorMessage(String(err.message));
  const fields: Record<string, unknown> = { event: 'error', 'error.kind': err.name, message };
  const stack = err.stack;
  if (typeof stack === 'string') {
    // The frames are code locations; only the header (name and message) can hold data.
    const frames = stack.indexOf('\n    at ');
    fields.stack = `${err.name}: ${message}${frames === -1 ? '' : stack.slice(frames)}`;
  }
  span.log(fields);
}

const MAX_ERROR_MESSAGE = 1000;

/** `message` with every run between single or double quotes replaced by `?` (unterminated: to the end). */
export function sanitizeErrorMessage(message: string): string {
  let out = '';
  let from = 0;
  const n = Math.min(message.length, MAX_ERROR_MESSAGE);
  for (let i = 0; i < n; i++) {
    const c = message.charCodeAt(i);
    if (c !== 39 && c !== 34) continue;
    const close = message.indexOf(c === 39 ? "'" : '"', i + 1);
    out += message.slice(from, i) + '?';
    i = close === -1 ? message.length : close;
    from = i + 1;
  }
  if (from < n) out += message.slice(from, n);
  return message.length > MAX_ERROR_MESSAGE && from <= n ? `${out}…` : out;
}

/**
 * A callback to hand the driver in place of the app's `callback`: it finishes `span` with the error
 * argument (first), then calls `callback` with the same `this` and arguments and returns what it
 * returns — nothing of ours runs after it. With `parent`, the callback runs with that span active,
 * so a driver that calls back from its socket's context (whichever request opened the connection)
 * still gives the app its own request's context.
 */
export function finishingCallback<F extends (...args: any[]) => unknown>(
  tracer: Tracer, span: Span, parent: Span | null, callback: F, mode: DbStatementMode = 'sanitized',
): F {
  return function (this: unknown, err?: unknown): unknown {
    if (!span.isFinished()) {
      try {
        finishDbSpan(span, err, mode);
      } catch {
        // Recording must never stop the app's callback.
      }
    }
    if (parent === null) return callback.apply(this, arguments as unknown as unknown[]);
    return callInScope(tracer, parent, callback, this, arguments as unknown as unknown[]);
  } as F;
}

/**
 * A callback that runs `callback` with `parent` active, for a driver that calls back from another
 * context (a pool handing over a connection released by another request). Lighter than
 * `scopeManager.bind`, which also copies the function's name and length: drivers only call it.
 */
export function callbackInScope<F extends (...args: any[]) => unknown>(tracer: Tracer, parent: Span, callback: F): F {
  return function (this: unknown): unknown {
    return callInScope(tracer, parent, callback, this, arguments as unknown as unknown[]);
  } as F;
}

function callInScope(tracer: Tracer, parent: Span, callback: (...args: any[]) => unknown, self: unknown, args: unknown[]): unknown {
  return tracer.scopeManager.run(parent, () => callback.apply(self, args));
}
