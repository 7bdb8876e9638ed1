import type { Span } from '../../src/agent/instrumentation.js';
import type { Tracer } from '../../src/agent/instrumentation.js';
import { isTracingSuppressed } from '../../src/agent/instrumentation.js';
import { startDbSpan, type DbContext, type DbOptions } from '../db-common/client-span.js';
import { endOnce } from './settle.js';

/**
 * The cheap "would a span exist?" check both Redis instrumentations make before any other work, and
 * what the node-redis (@redis/client) paths share: tags from a client's options or a published event,
 * and ending a span on the command's promise.
 */

/** The options of a node-redis client (`client.options`), as far as tags need them. */
export interface NodeRedisOptions {
  socket?: { host?: unknown; port?: unknown; path?: unknown } | null;
  database?: unknown;
}

/** Checked before any work on a command: no span outside a trace unless root spans are on, none while suppressed. */
export function wouldTrace(tracer: Tracer, options: DbOptions): boolean {
  return !isTracingSuppressed() && (options.rootSpans || tracer.scopeManager.active() !== null);
}

/**
 * `wouldTrace` that also hands over what it looked up: the parent for the command's span (null for
 * a root span), or undefined when no span should exist. Saves `startDbSpan` a second async-context read.
 */
export function traceParent(tracer: Tracer, options: DbOptions): Span | null | undefined {
  if (isTracingSuppressed()) return undefined;
  const scope = tracer.scopeManager.active();
  if (scope !== null) return scope.span;
  return options.rootSpans ? null : undefined;
}

/** Starts a node-redis client span with the tags its client options give. */
export function startNodeRedisSpan(
  ctx: DbContext,
  operation: string,
  statement: string | undefined,
  clientOptions: NodeRedisOptions | undefined,
  parent?: Span | null,
): Span | null {
  const socket = clientOptions?.socket ?? undefined;
  const path = typeof socket?.path === 'string' && socket.path !== '' ? socket.path : undefined;
  return startNodeRedisSpanAt(ctx, operation, statement, path ?? socket?.host, path !== undefined ? undefined : socket?.port ?? 6379, clientOptions?.database, parent);
}

/** The same from loose values (a published event's fields), without building an options object. */
export function startNodeRedisSpanAt(
  ctx: DbContext,
  operation: string,
  statement: string | undefined,
  host: unknown,
  port: unknown,
  database: unknown,
  parent?: Span | null,
): Span | null {
  return startDbSpan(ctx, operation, {
    component: 'redis',
    dbType: 'redis',
    instance: typeof database === 'number' ? database : 0,
    statement,
    hostname: typeof host === 'string' && host !== '' ? host : 'localhost',
    port: typeof port === 'number' ? port : undefined,
  }, parent);
}

/**
 * Ends `span` when `result` (the promise the client returned) settles, and returns what the caller
 * should hand on: a promise that settles the same way, with the same value or the same error object.
 * (A handler on the client's own promise would mark a rejection handled; a chained promise keeps an
 * unhandled rejection unhandled.)
 */
export function endWithPromise<T>(result: T, span: Span, errorOf?: (value: unknown) => unknown): T {
  if (!span.isRecording() || !(result instanceof Promise)) {
    span.finish();
    return result;
  }
  return result.then(
    (value: unknown) => {
      endOnce(span, errorOf, value, undefined);
      return value;
    },
    (err: unknown) => {
      endOnce(span, undefined, undefined, err ?? new Error('rejected'));
      throw err;
    },
  ) as T;
}
