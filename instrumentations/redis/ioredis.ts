import { defineInstrumentation } from '../../src/agent/instrumentation.js';
import type { Span } from '../../src/agent/instrumentation.js';
import { readDbOptions, startDbSpan, type DbContext, type DbOptions } from '../db-common/client-span.js';
import { redisOperationName, redisStatement } from './statement.js';
import { traceParent, wouldTrace } from './client-info.js';
import { finishOnSettle, pipelineStatement, RESOLVE_WRAPPER_NAME } from './settle.js';

/**
 * Client spans for ioredis 5 and 6: one span per command (`GET`), one per pipeline or `multi`
 * (`PIPELINE` / `MULTI`, with `db.redis.pipeline_length`). Commands inside a pipeline make no span
 * of their own: they travel in one round trip, so one span is what the time is spent on.
 *
 * ioredis ≥ 5.11 also publishes `ioredis:command` on `diagnostics_channel`, but those events do not
 * tell a pipeline's commands or the connection handshake from the user's commands, and plain
 * pipelines publish no batch event; so every version is patched the same way (two prototype methods).
 * Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=ioredis`.
 */

/** The parts of an ioredis `Command` we read (internal to ioredis, checked before use). */
interface CommandLike {
  name?: unknown;
  args?: unknown;
  resolve?: unknown;
  reject?: unknown;
}

interface RedisLike {
  status?: string;
  options?: { host?: unknown; port?: unknown; path?: unknown; db?: unknown };
  condition?: { select?: unknown } | null;
}

interface PipelineLike {
  redis?: RedisLike;
  _queue?: unknown;
  resolve?: unknown;
  reject?: unknown;
}

// ioredis sends these itself while connecting (status `connect`): AUTH, SELECT, CLIENT SETNAME/SETINFO,
// READONLY and the INFO ready check. They belong to the connection, not to whoever triggered it.
const HANDSHAKE = new Set(['auth', 'hello', 'select', 'client', 'readonly', 'info']);

// A pipeline's `exec` runs more than once for one pipeline (multi, cluster retries): one span, on the first.
const tracedPipelines = new WeakSet<object>();

/**
 * A command queued while offline is sent again once the connection is ready, and a reconnect resends
 * unanswered ones: one span per command, made on its first send (in the caller's context). A traced
 * command carries our `resolveWithTrace` (see `finishOnSettle`); reading its name costs less per
 * command than remembering every command in a WeakSet.
 */
function alreadyTraced(command: CommandLike): boolean {
  const resolve = command.resolve;
  return typeof resolve === 'function' && resolve.name === RESOLVE_WRAPPER_NAME;
}

export default defineInstrumentation<DbOptions>({
  options: readDbOptions,
  patch(exports, ctx) {
    const wrap = ctx.wrap;
    const Redis = (exports?.Redis ?? exports) as { prototype?: object } | undefined;
    const Pipeline = exports?.Pipeline as { prototype?: object } | undefined;
    if (Redis?.prototype !== undefined) {
      wrap(Redis.prototype as { sendCommand: Function }, 'sendCommand', (original) => sendCommandWrapper(original, ctx));
    }
    if (Pipeline?.prototype !== undefined) {
      wrap(Pipeline.prototype as { exec: Function }, 'exec', (original) => execWrapper(original, ctx));
    }
    return exports;
  },
});

function sendCommandWrapper(original: Function, ctx: DbContext): Function {
  const { tracer, options } = ctx;
  return function sendCommandWithTrace(this: RedisLike, command: CommandLike, stream?: unknown): unknown {
    // A pipeline's commands come with its write stream: the pipeline's span covers them.
    if (stream !== undefined || command === null || typeof command !== 'object' || alreadyTraced(command)) {
      return original.apply(this, arguments);
    }
    const name = command.name;
    if (typeof name !== 'string' || (this?.status === 'connect' && HANDSHAKE.has(name))) return original.apply(this, arguments);
    const parent = traceParent(tracer, options);
    if (parent === undefined) return original.apply(this, arguments);
    const operation = redisOperationName(name);
    const args = Array.isArray(command.args) ? (command.args as unknown[]) : [];
    const span = startCommandSpan(ctx, this ?? {}, operation, redisStatement(options.statement, operation, args), parent);
    if (span !== null) finishOnSettle(command, span, undefined);
    return original.apply(this, arguments);
  };
}

function execWrapper(original: Function, ctx: DbContext): Function {
  const { tracer, options } = ctx;
  return function execWithTrace(this: PipelineLike): unknown {
    // `multi().exec()` goes through here more than once (and a cluster retries): the first call counts.
    if (this === null || typeof this !== 'object' || tracedPipelines.has(this) || !Array.isArray(this._queue) || !wouldTrace(tracer, options)) {
      return original.apply(this, arguments);
    }
    const queue = this._queue as CommandLike[];
    const isMulti = queue.length > 0 && queue[0]?.name === 'multi';
    // `multi().exec()` reaches here before ioredis queues its EXEC: count what the user queued.
    let length = 0;
    for (const command of queue) if (!isMulti || !isTransactionMarker(command)) length++;
    const operation = isMulti ? 'MULTI' : 'PIPELINE';
    const statement = options.statement === 'off' ? undefined : pipelineStatement(options.statement, commandsOf(queue, isMulti));
    const span = startCommandSpan(ctx, this.redis ?? {}, operation, statement);
    if (span !== null) {
      tracedPipelines.add(this);
      if (span.isRecording()) span.setTag('db.redis.pipeline_length', length);
      finishOnSettle(this, span, firstPipelineError);
    }
    return original.apply(this, arguments);
  };
}

function isTransactionMarker(command: CommandLike | undefined): boolean {
  return command?.name === 'multi' || command?.name === 'exec';
}

function* commandsOf(queue: readonly CommandLike[], isMulti: boolean): Generator<[string, readonly unknown[]]> {
  for (const command of queue) {
    if (typeof command?.name !== 'string' || (isMulti && isTransactionMarker(command))) continue;
    yield [redisOperationName(command.name), Array.isArray(command.args) ? (command.args as unknown[]) : []];
  }
}

/** A pipeline resolves even when some of its commands failed: `[[err, value], …]`, and EXEC's own array. */
function firstPipelineError(result: unknown): unknown {
  if (!Array.isArray(result)) return undefined;
  for (const entry of result) {
    if (!Array.isArray(entry)) continue;
    if (entry[0] instanceof Error) return entry[0];
    if (Array.isArray(entry[1])) {
      for (const inner of entry[1]) if (inner instanceof Error) return inner;
    }
  }
  return undefined;
}

function startCommandSpan(
  ctx: DbContext, redis: RedisLike, operation: string, statement: string | undefined, parent?: Span | null,
): Span | null {
  const opts = redis.options ?? {};
  const path = typeof opts.path === 'string' && opts.path !== '' ? opts.path : undefined;
  const select = redis.condition?.select ?? opts.db ?? 0;
  return startDbSpan(ctx, operation, {
    component: 'ioredis',
    dbType: 'redis',
    instance: typeof select === 'number' || typeof select === 'string' ? select : undefined,
    statement,
    hostname: path ?? (typeof opts.host === 'string' ? opts.host : 'localhost'),
    port: path !== undefined ? undefined : typeof opts.port === 'number' ? opts.port : Number(opts.port ?? 6379),
  }, parent);
}
