// What the gRPC client and server instrumentations share: the method path split into the span name
// and `rpc.*` tags, status codes and which of them are errors, peers, and metadata as a carrier.
import { AsyncResource } from 'node:async_hooks';
import type { CarrierGetter, CarrierSetter, Span, Tracer } from '../../src/agent/instrumentation.js';

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

const described = new Map<string, { name: string; service: string; method: string }>();

/** `/package.Service/Method` → the span name `package.Service/Method` and its `rpc.*` tags (remembered: an app has few methods). */
export function describeMethod(path: string): { name: string; service: string; method: string } {
  let d = described.get(path);
  if (d === undefined) {
    d = splitMethod(path);
    if (described.size < 1000) described.set(path, d);
  }
  return d;
}

function splitMethod(path: string): { name: string; service: string; method: string } {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  return slash < 0 ? { name, service: '', method: name } : { name, service: name.slice(0, slash), method: name.slice(slash + 1) };
}

const targets = new Map<string, { host: string; port: number | undefined }>();

/** `hostPortOf`, remembered per target (a client calls the same one again and again). */
export function targetHostPort(target: string): { host: string; port: number | undefined } {
  let hp = targets.get(target);
  if (hp === undefined) {
    hp = hostPortOf(target);
    if (targets.size < 1000) targets.set(target, hp);
  }
  return hp;
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
 * Where a call's callbacks and events must run: in `span`'s scope (the caller's active span, or the
 * server span), or, when the caller had no active span, in the whole async context current now.
 * grpc-js emits from its HTTP/2 session, whose context is that of whichever call opened the
 * connection: without this, a later call's listeners would run in another request's trace. Running in
 * a span's scope is a plain store switch; capturing a whole context (an AsyncResource) costs async
 * hooks on every event, so it is only the fallback.
 */
export class CallContext {
  private readonly resource: AsyncResource | null;

  constructor(private readonly tracer: Tracer, private readonly span: Span | null) {
    this.resource = span === null ? new AsyncResource('grpc-call') : null;
  }

  run<T>(fn: (...args: any[]) => T, self: unknown, args: unknown[]): T {
    if (this.resource !== null) return this.resource.runInAsyncScope(fn, self, ...args);
    return this.tracer.scopeManager.run(this.span!, () => fn.apply(self, args));
  }

  /**
   * Makes every event of `emitter` run here. `onEvent` sees each event first (to end the span); it is
   * guarded, so our bookkeeping never stands between grpc-js and the app's listeners.
   */
  emitHere(emitter: { emit: (...args: any[]) => boolean }, onEvent: ((event: unknown, arg: unknown, self: unknown) => void) | null): void {
    const original = emitter.emit;
    const context = this;
    const emitWithTrace = function emitWithTrace(this: unknown, ...args: unknown[]): boolean {
      if (onEvent !== null) {
        try {
          onEvent(args[0], args[1], this);
        } catch {
          // never between grpc-js and the listeners
        }
      }
      return context.run(original, this, args);
    };
    Object.defineProperty(emitWithTrace, 'length', { value: original.length });
    emitter.emit = emitWithTrace;
  }
}
