import type { ServerResponse } from 'node:http';
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import type { Span } from '../../src/agent/instrumentation.js';
import { recordError, writableTags } from '../../src/agent/instrumentation.js';
import { describeError, guard, log } from '../../src/agent/instrumentation.js';

import { FRAMEWORK_STATE as FRAMEWORK_STATE_KEY, getServerSpan as getServerSpanValue } from '../http/server.js';

// Data exports, not `export { } from` (a getter on the compiled exports object, which each framework
// read per request through V8's generic load IC): see src/agent/instrumentation.ts.
export const FRAMEWORK_STATE = FRAMEWORK_STATE_KEY;
export const getServerSpan = getServerSpanValue;

/** A server span's name after its route: `GET /users/:id`, or the template alone without a method. */
export function serverSpanName(method: unknown, route: string): string {
  return typeof method === 'string' ? `${method} ${route}` : route;
}

/**
 * Renames a request's server span after the route the framework matched: `GET /users/:id`,
 * tagged `http.route` with the template (never the raw path) and `component` with the framework.
 */
export function nameServerSpan(span: Span, method: unknown, route: string, component: string, operation?: string): void {
  // The span's own tag store (null when it records nothing): two monomorphic writes per request
  // instead of two calls of the setTag shared by every tag of every span.
  const tags = writableTags(span);
  if (tags === null) return;
  // `operation`: the name composed already by a caller that keeps it per route.
  span.setOperationName(operation ?? serverSpanName(method, route));
  tags['http.route'] = route;
  tags.component = component;
}

const PENDING_ERROR = Symbol('acme.tracing.pendingError');
const PENDING_SPAN = Symbol('acme.tracing.pendingErrorSpan');

interface ErrorCarryingResponse extends ServerResponse {
  [PENDING_ERROR]?: unknown;
  [PENDING_SPAN]?: Span;
}

/**
 * Remembers an error a framework saw on its way through a request. Whether it was a failure is
 * decided by the answer: a response of 500 or more records it on the server span (error=true and a
 * log with kind, message and stack); an error the app turned into a 4xx is the client's, not ours.
 * The latest error wins, so one that an error handler replaced is reported as the replacement.
 */
export function notePendingError(res: unknown, span: Span, err: unknown): void {
  if (!span.isRecording() || err === undefined || err === null) return;
  if (res === null || typeof res !== 'object' || typeof (res as ServerResponse).once !== 'function') return;
  const r = res as ErrorCarryingResponse;
  const first = r[PENDING_SPAN] === undefined;
  r[PENDING_ERROR] = err;
  r[PENDING_SPAN] = span;
  // 'finish' comes before 'close', on which the http instrumentation finishes the span.
  if (first) r.once('finish', recordPendingError);
}

/** One shared listener (no per-request closure): `this` is the response. */
function recordPendingError(this: ErrorCarryingResponse): void {
  guard('framework error recording', () => {
    const span = this[PENDING_SPAN];
    if (span !== undefined && this.statusCode >= 500) recordError(span, this[PENDING_ERROR]);
    this[PENDING_ERROR] = undefined;
  }, undefined);
}

/**
 * What `guard` logs, for the per-request paths that use try/catch instead (no closure per call):
 * one warning per key for the life of the process, and the request carries on.
 */
export function internalError(key: string, err: unknown): void {
  log.warnOnce(key, `internal error in ${key}, carrying on without it: ${describeError(err)}`);
}

/** Options every framework instrumentation reads from its section of the config file. */
export interface FrameworkOptions {
  /** One span per middleware (and route handler), a child of the server span. Off by default. */
  middlewareSpans: boolean;
}

/** The context a framework instrumentation's code receives. */
export type FrameworkContext = InstrumentationContext<FrameworkOptions>;

export function readFrameworkOptions(config: Readonly<Record<string, unknown>>): FrameworkOptions {
  return { middlewareSpans: config.middlewareSpans === true };
}
