// What the gRPC client and server instrumentations share: the method path split into the span name
// and `rpc.*` tags, status codes and which of them are errors, peers, and metadata as a carrier.
import { AsyncResource } from 'node:async_hooks';
import type { CarrierGetter, CarrierSetter } from '../../src/agent/instrumentation.js';
import type { Span } from '../../src/agent/instrumentation.js';

const STATUS_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
export const OK = 0;
export const CANCELLED = 1;
export const UNKNOWN = 2;
export const DEADLINE_EXCEEDED = 4;
export const UNIMPLEMENTED = 12;
export const INTERNAL = 13;

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `STATUS_${code}`;
}

/**
 * OpenTelemetry's RPC conventions: on a server only the codes that mean the server failed are errors
 * (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS); a client's call failed
 * whatever the code when it is not OK.
 */
export function isServerError(code: number): boolean {
  return code === 2 || code === 4 || code === 12 || code === 13 || code === 14 || code === 15;
}

/** `/package.Service/Method` → the span name `package.Service/Method` and its `rpc.*` tags. */
export function describeMethod(path: string): { name: string; service: string; method: string } {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  return slash < 0 ? { name, service: '', method: name } : { name, service: name.slice(0, slash), method: name.slice(slash + 1) };
}

/** A channel target (`dns:///host:port`, `ipv4:1.2.3.4:port`, `host:port`) or a peer (`[::1]:port`) → host and port. */
export function hostPortOf(target: string): { host: string; port: number | undefined } {
  let rest = target.replace(/^dns:(\/\/[^/]*\/)?/, '').replace(/^ipv[46]:/, '');
  if (rest.startsWith('unix:')) return { host: rest, port: undefined };
  rest = rest.split(',')[0]!;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket !== null) return { host: bracket[1]!, port: bracket[2] === undefined ? undefined : Number(bracket[2]) };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && rest.indexOf(':') === colon && /^\d+$/.test(rest.slice(colon + 1))) return { host: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
  return { host: rest, port: undefined };
}

/** The status code of a grpc-js `ServiceError` (or anything a handler passed as an error). */
export function codeOfError(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16 ? code : UNKNOWN;
}

/** Ends `span` with the call's status: `rpc.grpc.status_code`, and an error (with its message) when `isError`. */
export function finishWithStatus(span: Span, code: number, message: string, isError: boolean): void {
  span.setTag('rpc.grpc.status_code', code);
  if (isError) {
    span.setTag('error', true);
    span.log({ event: 'error', 'error.kind': statusName(code), message: message === '' ? statusName(code) : message });
  }
  span.finish();
}

interface MetadataLike {
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}

/** Writes propagation headers into a grpc-js `Metadata`; a key or value it refuses is skipped. */
export const metadataSetter: CarrierSetter = {
  set(carrier, name, value) {
    try {
      (carrier as MetadataLike).set(name, value);
    } catch {
      // grpc-js validates keys and values; one it refuses is not worth failing the call over.
    }
  },
};

/** Reads propagation headers from a map of metadata (text values only; `-bin` values are Buffers). */
export const metadataMapGetter: CarrierGetter = {
  get(carrier, name) {
    const v = (carrier as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  },
  keys(carrier) {
    return Object.keys(carrier as Record<string, unknown>);
  },
};

/**
 * Makes every event of `emitter` run in the async context current now (the caller's for a client
 * call, the server span's for a handled one). grpc-js emits from its HTTP/2 session, whose context is
 * that of whichever call opened the connection: without this, a later call's listeners would run in
 * another request's trace. `onEvent` sees each event first (to end the span), inside a guard of the caller.
 */
export function emitInThisContext(emitter: { emit: (...args: any[]) => boolean }, onEvent: (event: unknown, arg: unknown, self: unknown) => void): void {
  const resource = new AsyncResource('grpc-call');
  const original = emitter.emit;
  const emitWithTrace = function emitWithTrace(this: unknown, event: unknown, ...args: unknown[]): boolean {
    try {
      onEvent(event, args[0], this);
    } catch {
      // Our bookkeeping never stands between grpc-js and the app's listeners.
    }
    return resource.runInAsyncScope(original, this, event, ...args) as boolean;
  };
  Object.defineProperty(emitWithTrace, 'length', { value: original.length });
  emitter.emit = emitWithTrace;
}

/** `fn` bound to the async context current now. */
export function inThisContext<F extends (...args: any[]) => unknown>(fn: F): F {
  return AsyncResource.bind(fn) as F;
}
