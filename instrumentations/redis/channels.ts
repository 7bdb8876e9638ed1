import type { Span } from '../../src/agent/instrumentation.js';
import type { DbContext, DbOptions } from '../db-common/client-span.js';
import { redisOperationName, redisStatement } from './statement.js';
import { startNodeRedisSpanAt, traceParent } from './client-info.js';
import { endOnce, firstErrorInReplies, joinStatementLines } from './settle.js';

/**
 * Client spans for @redis/client ≥ 5.12, from the `diagnostics_channel` tracing channels it
 * publishes (`node-redis:command`, `node-redis:batch`); nothing is patched. A pipeline's commands
 * are published too, marked with `batchMode`: the batch span covers them. The handshake is not
 * published. The library redacts the arguments it publishes itself, so with
 * `TRACING_DB_STATEMENT=full` these versions show what the library lets through, not every value.
 */

/** The context object @redis/client publishes with each event (read only). */
interface TraceMessage {
  command?: unknown;
  args?: unknown;
  database?: unknown;
  serverAddress?: unknown;
  serverPort?: unknown;
  batchMode?: unknown;
  batchSize?: unknown;
  error?: unknown;
  result?: unknown;
  [SPAN]?: Span | undefined;
}

// Our span rides on the library's context object under a symbol: invisible to the library and to
// other subscribers (no enumerable key), and cheaper per command than a WeakMap entry.
const SPAN = Symbol('acme.tracing.redisSpan');

let active: { ctx: DbContext; options: DbOptions } | null = null;

// A pipeline publishes its batch `start`, then each of its commands, synchronously, then the batch
// `end`: the commands seen in between make up the pipeline span's statement.
let openPipeline: { span: Span; lines: string[] } | null = null;

/** Subscribes to the node-redis tracing channels (the loader's record unsubscribes them). */
export function startChannels(ctx: DbContext): void {
  if (active !== null) return;
  active = { ctx, options: ctx.options };
  for (const kind of ['command', 'batch'] as const) {
    const prefix = `tracing:node-redis:${kind}`;
    ctx.subscribe(`${prefix}:start`, (message) => onStart(message as TraceMessage, kind));
    ctx.subscribe(`${prefix}:asyncEnd`, (message) => onEnd(message as TraceMessage));
    // A synchronous throw publishes `error` then `end`, and no `asyncEnd`.
    ctx.subscribe(`${prefix}:end`, (message) => {
      if (kind === 'batch') closePipelineStatement();
      if ((message as TraceMessage).error !== undefined) onEnd(message as TraceMessage);
    });
  }
}

/** Forgets the subscription state; the loader unsubscribes the channels themselves. */
export function stopChannels(): void {
  active = null;
}

function onStart(message: TraceMessage, kind: 'command' | 'batch'): void {
  if (active === null || message === null || typeof message !== 'object') return;
  const { ctx, options } = active;
  const parent = traceParent(ctx.tracer, options);
  if (parent === undefined) return;
  // A pipeline's own commands: its batch span stands for them, they only add to its statement.
  if (kind === 'command' && message.batchMode !== undefined) {
    if (openPipeline !== null && typeof message.command === 'string' && Array.isArray(message.args)) {
      const operation = redisOperationName(message.command);
      openPipeline.lines.push(redisStatement(options.statement, operation, message.args, 1) ?? operation);
    }
    return;
  }
  let operation: string;
  let statement: string | undefined;
  if (kind === 'batch') {
    operation = message.batchMode === 'MULTI' ? 'MULTI' : 'PIPELINE';
  } else {
    if (typeof message.command !== 'string') return;
    operation = redisOperationName(message.command);
    statement = Array.isArray(message.args) ? redisStatement(options.statement, operation, message.args, 1) : operation;
  }
  // A Unix socket is published as its path with no port: the path becomes peer.hostname.
  const span = startNodeRedisSpanAt(ctx, operation, statement, message.serverAddress, message.serverPort, message.database, parent);
  if (span === null) return;
  if (!span.isRecording()) {
    span.finish();
    return;
  }
  if (kind === 'batch' && typeof message.batchSize === 'number') span.setTag('db.redis.pipeline_length', message.batchSize);
  if (kind === 'batch' && operation === 'PIPELINE' && options.statement !== 'off') openPipeline = { span, lines: [] };
  message[SPAN] = span;
}

function closePipelineStatement(): void {
  if (openPipeline === null) return;
  const { span, lines } = openPipeline;
  openPipeline = null;
  if (lines.length > 0 && !span.isFinished()) {
    span.setTag('db.statement', joinStatementLines(lines));
  }
}

function onEnd(message: TraceMessage): void {
  const span = message?.[SPAN];
  if (span === undefined) return;
  message[SPAN] = undefined;
  // A MULTI or pipeline resolves with a failed command's error in place of its reply.
  endOnce(span, firstErrorInReplies, message.result, message.error);
}
