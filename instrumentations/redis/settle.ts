import type { Span } from '../../src/agent/instrumentation.js';
import type { DbStatementMode } from '../../src/agent/instrumentation.js';
import { describeError, log } from '../../src/agent/instrumentation.js';
import { finishDbSpan } from '../db-common/client-span.js';
import { redisStatement } from './statement.js';

/**
 * Helpers the ioredis and node-redis instrumentations share: ending a span when a command settles,
 * and the statement of a pipeline.
 */

/** Cap of a pipeline statement: a 10 000-command pipeline must not become a 10 000-line tag. */
const PIPELINE_STATEMENT_CAP = 1024;

/** The name of the function `finishOnSettle` installs as `resolve`: how a hooked holder is recognised. */
export const RESOLVE_WRAPPER_NAME = 'resolveWithTrace';

interface Settleable {
  resolve?: unknown;
  reject?: unknown;
}

/**
 * Finishes `span` when `holder` (an ioredis `Command` or `Pipeline`) settles, by wrapping the
 * `resolve`/`reject` functions the library stores on it. The library's promise itself is left
 * alone: a handler attached to it would mark a rejection as handled and hide an unhandled
 * rejection the app would otherwise see. `errorOf` finds a failure inside a resolved value.
 */
export function finishOnSettle(holder: Settleable, span: Span, errorOf: ((result: unknown) => unknown) | undefined): void {
  if (!span.isRecording()) {
    // An unsampled trace: the span carries context only, there is nothing to time.
    span.finish();
    return;
  }
  const resolve = holder.resolve;
  const reject = holder.reject;
  if (typeof resolve !== 'function' || typeof reject !== 'function') {
    // Nothing to hook: a span we cannot end must not exist at all.
    span.finish();
    return;
  }
  holder.resolve = function resolveWithTrace(this: unknown, value: unknown): unknown {
    const result = resolve.apply(this, arguments);
    endOnce(span, errorOf, value, undefined);
    return result;
  };
  holder.reject = function rejectWithTrace(this: unknown, err: unknown): unknown {
    const result = reject.apply(this, arguments);
    endOnce(span, undefined, undefined, err ?? new Error('rejected'));
    return result;
  };
}

/** Finishes `span` unless it already is, with the error `err` or the one `errorOf` finds in `value`; never throws. */
export function endOnce(span: Span, errorOf: ((result: unknown) => unknown) | undefined, value: unknown, err: unknown): void {
  if (span.isFinished()) return;
  try {
    finishDbSpan(span, err ?? (errorOf !== undefined ? errorOf(value) : undefined));
  } catch (e) {
    log.warnOnce('redis:finish', `internal error finishing a Redis span: ${describeError(e)}`);
  }
}

/** One line per command (`SET k`, `GET k`), each made safe like a single command's statement. */
export function pipelineStatement(mode: DbStatementMode, commands: Iterable<readonly [string, readonly unknown[]]>, from = 0): string | undefined {
  if (mode === 'off') return undefined;
  const lines: string[] = [];
  for (const [operation, args] of commands) lines.push(redisStatement(mode, operation, args, from) ?? operation);
  return joinStatementLines(lines);
}

/** Statements of a pipeline's commands, one per line, capped. */
export function joinStatementLines(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) {
    out = out === '' ? line : `${out}\n${line}`;
    if (out.length > PIPELINE_STATEMENT_CAP) return `${out.slice(0, PIPELINE_STATEMENT_CAP)}…`;
  }
  return out;
}

/** node-redis MULTI and pipeline replies carry a failed command's error in place of its reply. */
export function firstErrorInReplies(result: unknown): unknown {
  if (!Array.isArray(result)) return undefined;
  for (const reply of result) if (reply instanceof Error) return reply;
  return undefined;
}
