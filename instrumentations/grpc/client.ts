// Client spans for every call kind of `@grpc/grpc-js`. The four request methods of `Client.prototype`
// are what generated stubs (proto-loader, static codegen, makeGenericClientConstructor) call: make-client
// copies them when it loads, which is why the instrumentation patches `build/src/client.js` itself, before
// make-client reads them.
import type { InstrumentationContext } from '../../src/agent/instrumentation.js';
import { FORMAT_HTTP_HEADERS, isTracingSuppressed, type Span } from '../../src/agent/instrumentation.js';
import { CallContext, codeOfError, describeMethod, finishWithStatus, metadataSetter, OK, targetHostPort } from './rpc.js';

type AnyFn = (...args: any[]) => any;

interface GrpcClient {
  getChannel?(): { getTarget?(): string };
  checkOptionalUnaryResponseArguments(a: unknown, b: unknown, c: unknown): { metadata: Metadata; options: Record<string, unknown>; callback: AnyFn };
  checkMetadataAndOptions(a: unknown, b: unknown): { metadata: Metadata; options: Record<string, unknown> };
}

interface Metadata {
  clone(): Metadata;
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}

/** Patches the request methods of grpc-js's `Client`. */
export function patchClient(Client: { prototype: Record<string, AnyFn> }, ctx: InstrumentationContext): void {
  const proto = Client.prototype;
  // (method, serialize, deserialize, argument, metadata?, options?, callback)
  ctx.wrap(proto, 'makeUnaryRequest', (original) => withCallback(ctx, original, 4));
  // (method, serialize, deserialize, metadata?, options?, callback)
  ctx.wrap(proto, 'makeClientStreamRequest', (original) => withCallback(ctx, original, 3));
  // (method, serialize, deserialize, argument, metadata?, options?)
  ctx.wrap(proto, 'makeServerStreamRequest', (original) => streaming(ctx, original, 4));
  // (method, serialize, deserialize, metadata?, options?)
  ctx.wrap(proto, 'makeBidiStreamRequest', (original) => streaming(ctx, original, 3));
}

/** Starts the client span and writes its context into `metadata` (a copy: the user's object is not changed). */
function startCall(ctx: InstrumentationContext, client: GrpcClient, path: unknown, metadata: Metadata, options: Record<string, unknown>): { span: Span; metadata: Metadata; caller: CallContext } {
  const { name, service, method } = describeMethod(String(path));
  const caller = new CallContext(ctx.tracer, ctx.tracer.activeSpan());
  const span = ctx.tracer.startSpan(name, { tags: { 'span.kind': 'client', component: 'grpc', 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } });
  let target = '';
  try {
    target = client.getChannel?.().getTarget?.() ?? '';
  } catch {
    // A closed client still makes the call fail on its own; the peer is only a tag.
  }
  if (target !== '') {
    const { host, port } = targetHostPort(target);
    span.setTag('peer.hostname', host);
    if (port !== undefined) span.setTag('peer.port', port);
  }
  const deadline = options.deadline;
  const at = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' ? deadline : NaN;
  if (Number.isFinite(at)) span.setTag('rpc.grpc.deadline_ms', Math.max(0, Math.round(at - Date.now())));
  const copy = metadata.clone();
  ctx.tracer.inject(span, FORMAT_HTTP_HEADERS, copy, metadataSetter);
  return { span, metadata: copy, caller };
}

/** Unary and client-streaming calls: the callback receives the final status, exactly once. */
function withCallback(ctx: InstrumentationContext, original: AnyFn, metadataAt: number): AnyFn {
  return function requestWithTrace(this: GrpcClient, ...args: unknown[]): unknown {
    if (isTracingSuppressed() || args.length <= metadataAt) return original.apply(this, args);
    let call: ReturnType<typeof startCall> | null = null;
    let checked: ReturnType<GrpcClient['checkOptionalUnaryResponseArguments']>;
    try {
      checked = this.checkOptionalUnaryResponseArguments(args[metadataAt], args[metadataAt + 1], args[metadataAt + 2]);
      if (typeof checked.callback !== 'function') return original.apply(this, args);
      call = startCall(ctx, this, args[0], checked.metadata, checked.options);
    } catch {
      // Arguments grpc-js will refuse (it throws the same error for them), or a bug of ours: untouched.
      return original.apply(this, args);
    }
    const { span, caller } = call;
    const userCallback = checked.callback;
    let ended = false;
    const callbackWithTrace = function callbackWithTrace(this: unknown, err: unknown, value?: unknown): unknown {
      if (!ended) {
        ended = true;
        try {
          if (err === null || err === undefined) finishWithStatus(span, OK, '', false);
          else finishWithStatus(span, codeOfError(err), (err as { details?: string }).details ?? String((err as Error).message ?? ''), true);
        } catch {
          // never between grpc-js and the user's callback
        }
      }
      return caller.run(userCallback, this, [err, value]);
    };
    const callArgs = args.slice(0, metadataAt);
    callArgs.push(call.metadata, checked.options, callbackWithTrace);
    const result = original.apply(this, callArgs) as { emit?: AnyFn } | undefined;
    if (result !== null && typeof result === 'object' && typeof result.emit === 'function') caller.emitHere(result as { emit: AnyFn }, null);
    return result;
  };
}

/** Server-streaming and bidi calls: the returned stream's `status` event is the end of the call. */
function streaming(ctx: InstrumentationContext, original: AnyFn, metadataAt: number): AnyFn {
  return function requestWithTrace(this: GrpcClient, ...args: unknown[]): unknown {
    if (isTracingSuppressed() || args.length < metadataAt) return original.apply(this, args);
    let call: ReturnType<typeof startCall> | null = null;
    let checked: ReturnType<GrpcClient['checkMetadataAndOptions']>;
    try {
      checked = this.checkMetadataAndOptions(args[metadataAt], args[metadataAt + 1]);
      call = startCall(ctx, this, args[0], checked.metadata, checked.options);
    } catch {
      return original.apply(this, args);
    }
    const { span, caller } = call;
    const callArgs = args.slice(0, metadataAt);
    callArgs.push(call.metadata, checked.options);
    const stream = original.apply(this, callArgs) as { emit: AnyFn };
    let ended = false;
    caller.emitHere(stream, (event, arg) => {
      if (event !== 'status' || ended) return;
      ended = true;
      const status = arg as { code?: number; details?: string };
      const code = typeof status?.code === 'number' ? status.code : OK;
      finishWithStatus(span, code, status?.details ?? '', code !== OK);
    });
    return stream;
  };
}
