import type { DbContext } from '../db-common/client-span.js';
import { redisOperationName, redisStatement } from './statement.js';
import { endWithPromise, startNodeRedisSpan, traceParent, wouldTrace, type NodeRedisOptions } from './client-info.js';
import { firstErrorInReplies, pipelineStatement } from './settle.js';

/**
 * Patches for the @redis/client versions that publish no `diagnostics_channel` events: 1.x (redis@4)
 * and 5.0–5.11. The connection handshake (AUTH, HELLO, SELECT, CLIENT SETNAME) goes straight to the
 * client's private command queue in every version, so it never reaches these wrappers.
 */

interface ClientLike {
  options?: NodeRedisOptions;
}

interface QueuedCommand {
  args?: unknown;
}

// 1.x builds each command method (`client.get`) around the executor it is given once, at class
// definition, and turns the user's arguments into Redis arguments inside that executor. The executor
// wrapper switches `capturing` on while the original runs synchronously, and the wrapped
// `transformCommandArguments` hands it the Redis arguments (command name first) that way.
let capturing = false;
let captured: unknown[] | undefined;

function isClientClass(BaseClass: unknown): boolean {
  const proto = (BaseClass as { prototype?: Record<string, unknown> } | null | undefined)?.prototype;
  return typeof proto?.multiExecutor === 'function' && typeof proto.executeIsolated === 'function';
}

/** @redis/client 1.x `dist/lib/commander.js`: the command methods of the client and of its modules. */
export function patchCommanderV1(commander: Record<string, unknown>, ctx: DbContext): void {
  const wrap = ctx.wrap;
  const withTrace = (executor: Function): Function => commandsExecutorWrapper(executor, ctx);
  wrap(commander as { transformCommandArguments: Function }, 'transformCommandArguments', (original) =>
    function transformCommandArgumentsWithTrace(this: unknown): unknown {
      const result = original.apply(this, arguments);
      if (capturing) {
        const args = (result as { args?: unknown } | null)?.args;
        captured = Array.isArray(args) ? args : undefined;
      }
      return result;
    });
  wrap(commander as { attachCommands: Function }, 'attachCommands', (original) =>
    function attachCommandsWithTrace(this: unknown, config: { BaseClass?: unknown; executor?: unknown } | undefined): unknown {
      if (config === null || typeof config !== 'object' || !isClientClass(config.BaseClass) || typeof config.executor !== 'function') {
        return original.apply(this, arguments);
      }
      return original.call(this, { ...config, executor: withTrace(config.executor) });
    });
  wrap(commander as { attachExtensions: Function }, 'attachExtensions', (original) =>
    function attachExtensionsWithTrace(this: unknown, config: { BaseClass?: unknown; modulesExecutor?: unknown } | undefined): unknown {
      if (config === null || typeof config !== 'object' || !isClientClass(config.BaseClass) || typeof config.modulesExecutor !== 'function') {
        return original.apply(this, arguments);
      }
      return original.call(this, { ...config, modulesExecutor: withTrace(config.modulesExecutor) });
    });
}

function commandsExecutorWrapper(original: Function, ctx: DbContext): Function {
  const { tracer, options } = ctx;
  return function commandsExecutorWithTrace(this: ClientLike): unknown {
    const parent = traceParent(tracer, options);
    if (parent === undefined) return original.apply(this, arguments);
    capturing = true;
    captured = undefined;
    let result: unknown;
    try {
      result = original.apply(this, arguments);
    } finally {
      capturing = false;
    }
    const args = captured as unknown[] | undefined;
    captured = undefined;
    if (args === undefined || args.length === 0) return result;
    const operation = redisOperationName(String(args[0]));
    const span = startNodeRedisSpan(ctx, operation, redisStatement(options.statement, operation, args, 1), this?.options, parent);
    return span === null ? result : endWithPromise(result, span);
  };
}

/**
 * @redis/client `dist/lib/client/index.js` (1.x and 5.0–5.11): `sendCommand` (the user's raw
 * commands; in 5.x every command), and the multi/pipeline executors (one span each).
 */
export function patchClient(RedisClient: { prototype?: object } | undefined, ctx: DbContext): void {
  const { tracer, options, wrap } = ctx;
  const proto = RedisClient?.prototype as Record<string, Function> | undefined;
  if (proto === undefined) return;
  wrap(proto, 'sendCommand', (original) =>
    function sendCommandWithTrace(this: ClientLike, args: unknown, commandOptions?: { isolated?: unknown }): unknown {
      // 1.x re-sends an `isolated` command through an isolated client's sendCommand: one span only.
      if (!Array.isArray(args) || args.length === 0 || commandOptions?.isolated === false) return original.apply(this, arguments);
      const parent = traceParent(tracer, options);
      if (parent === undefined) return original.apply(this, arguments);
      const operation = redisOperationName(String(args[0]));
      const span = startNodeRedisSpan(ctx, operation, redisStatement(options.statement, operation, args, 1), this?.options, parent);
      const result = original.apply(this, arguments);
      return span === null ? result : endWithPromise(result, span);
    });
  // 1.x: one executor, MULTI when it gets a chain id. 5.x: one method each.
  wrap(proto, 'multiExecutor', (original) => batchWrapper(original, ctx, (chainId) => (chainId !== undefined ? 'MULTI' : 'PIPELINE')));
  wrap(proto, '_executeMulti', (original) => batchWrapper(original, ctx, () => 'MULTI'));
  wrap(proto, '_executePipeline', (original) => batchWrapper(original, ctx, () => 'PIPELINE'));
}

function batchWrapper(original: Function, ctx: DbContext, operationOf: (chainId: unknown) => string): Function {
  const { tracer, options } = ctx;
  return function executeBatchWithTrace(this: ClientLike, commands: unknown, selectedDB?: unknown, chainId?: unknown): unknown {
    if (!Array.isArray(commands) || !wouldTrace(tracer, options)) return original.apply(this, arguments);
    const queued = commands as QueuedCommand[];
    const operation = operationOf(chainId);
    const statement = pipelineStatement(options.statement, argsOf(queued), 1);
    const span = startNodeRedisSpan(ctx, operation, statement, this?.options);
    if (span !== null && span.isRecording()) span.setTag('db.redis.pipeline_length', queued.length);
    const result = original.apply(this, arguments);
    return span === null ? result : endWithPromise(result, span, firstErrorInReplies);
  };
}

function* argsOf(commands: readonly QueuedCommand[]): Generator<[string, readonly unknown[]]> {
  for (const command of commands) {
    const args = command?.args;
    if (!Array.isArray(args) || args.length === 0) continue;
    yield [redisOperationName(String(args[0])), args];
  }
}
