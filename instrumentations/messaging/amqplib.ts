import {
  defineInstrumentation, isTracingSuppressed, type InstrumentationContext, type Logger, type Span, type Tracer,
} from '../../src/agent/instrumentation.js';
import {
  BASIC_ACK, BASIC_NACK, BASIC_REJECT, CHANNEL_CLOSE, channelState, existingState, fail, readAmqpOptions,
  settle, settleByFrame, settleOnClose, startConsumerSpan, startProducerSpan, type AmqpOptions, type ChannelState, type ConfirmSlot, type MessageLike, type PeerInfo,
} from './amqp-spans.js';

/**
 * RabbitMQ through `amqplib` 0.10 and 1.x/2.x, promise API (`amqplib`) and callback API
 * (`amqplib/callback_api`), plain and confirm channels.
 *
 * Patched where both APIs meet, so each behaviour is written once:
 * - `lib/channel.js` (the channel machinery both APIs extend): `sendMessage` makes the producer span
 *   and injects the context into the headers; `sendImmediately` sees ack/nack/reject frames (ending
 *   consumer spans, `allUpTo` and `ackAll`/`nackAll` included); `accept` notes why the broker closed
 *   a channel and `toClosed` ends what is still open on it; `_rpc` and `closeBecause` give
 *   callback-API callbacks their caller's context back.
 * - `lib/channel_model.js` and `lib/callback_model.js`: `consume` runs the app's callback inside a
 *   consumer span, `get` starts one for the message it returns, `ConfirmChannel#publish` ends the
 *   producer span when the broker confirms the message.
 * - `lib/connect.js`: the broker's host and port, for `peer.*` tags.
 * Opt out with `TRACING_DISABLED_INSTRUMENTATIONS=amqplib`.
 */

type AnyFunction = Function;
type Log = Logger;
type AmqpContext = InstrumentationContext<AmqpOptions>;

interface ChannelLike {
  connection?: object;
}

/** Connections opened through `connect`, with where they go. */
const peers = new WeakMap<object, PeerInfo>();

function peerOf(channel: ChannelLike | null | undefined): PeerInfo | undefined {
  const connection = channel?.connection;
  return connection !== undefined && connection !== null ? peers.get(connection) : undefined;
}

// Declared in instrumentations/index.ts: amqplib >=0.10 <3, files lib/channel.js, lib/channel_model.js,
// lib/callback_model.js and lib/connect.js.
export default defineInstrumentation<AmqpOptions>({
  options: readAmqpOptions,
  patch(exports, ctx, target) {
    switch (target.file) {
      case 'lib/channel.js':
        patchChannel(exports, ctx);
        break;
      case 'lib/connect.js':
        ctx.wrap(exports as { connect: AnyFunction }, 'connect', (original) => connectWrapper(original, ctx.tracer, ctx.options));
        break;
      case 'lib/channel_model.js':
      case 'lib/callback_model.js':
        patchModel(exports, ctx, target.file === 'lib/channel_model.js');
        break;
    }
    return exports;
  },
});

function patchChannel(exports: any, ctx: AmqpContext): void {
  const options = ctx.options;
  const proto = exports?.Channel?.prototype as Record<string, AnyFunction> | undefined;
  if (proto === undefined) return;
  const tracer = ctx.tracer;
  ctx.wrap(proto, 'sendMessage', (original) => sendMessageWrapper(original, tracer, options));
  ctx.wrap(proto, 'sendImmediately', sendImmediatelyWrapper);
  ctx.wrap(proto, 'accept', acceptWrapper);
  ctx.wrap(proto, 'toClosed', toClosedWrapper);
  ctx.wrap(proto, '_rpc', (original) => rpcWrapper(original, tracer));
  ctx.wrap(proto, 'closeBecause', (original) => closeBecauseWrapper(original, tracer));
}

function patchModel(exports: any, ctx: AmqpContext, promises: boolean): void {
  const options = ctx.options;
  const proto = exports?.Channel?.prototype as Record<string, AnyFunction> | undefined;
  if (proto === undefined) return;
  const tracer = ctx.tracer;
  const confirmProto = exports?.ConfirmChannel?.prototype as Record<string, AnyFunction> | undefined;
  if (confirmProto !== undefined) ctx.wrap(confirmProto, 'publish', (original) => confirmPublishWrapper(original, tracer, options));
  ctx.wrap(proto, 'consume', (original) => consumeWrapper(original, tracer, ctx.log));
  ctx.wrap(proto, 'get', (original) => (promises ? promiseGetWrapper(original, tracer, ctx.log) : callbackGetWrapper(original, tracer, ctx.log)));
}

// --- producing -----------------------------------------------------------------------------------

function sendMessageWrapper(original: AnyFunction, tracer: Tracer, options: AmqpOptions): AnyFunction {
  return function sendMessageWithTrace(this: ChannelLike, fields: unknown, properties: unknown, content: unknown): unknown {
    if (this === null || typeof this !== 'object' || fields === null || typeof fields !== 'object' || properties === null || typeof properties !== 'object' || isTracingSuppressed()) {
      return original.apply(this, arguments);
    }
    const parent = tracer.scopeManager.active()?.span ?? null;
    if (parent === null && !options.rootSpans) return original.apply(this, arguments);
    const span = startProducerSpan(tracer, parent, fields as object, properties as object, content, peerOf(this));
    let result: unknown;
    try {
      result = original.apply(this, arguments);
    } catch (err) {
      fail(span, err);
      span.finish();
      throw err;
    }
    // Inside a confirm channel's publish the span ends when the broker confirms the message.
    const slot = existingState(this)?.confirmSlot ?? null;
    if (slot !== null && slot.span === null) slot.span = span;
    else span.finish();
    return result;
  };
}

/**
 * `ConfirmChannel#publish` (and `sendToQueue`, which calls it): the app's confirm callback, or its
 * absence, is replaced by one that ends the producer span `sendMessage` makes during this call.
 * amqplib registers the callback before sending in 0.10 and early 1.0.x and after in later versions;
 * pairing them inside this call does not depend on that order.
 */
function confirmPublishWrapper(original: AnyFunction, tracer: Tracer, options: AmqpOptions): AnyFunction {
  return function publishWithTrace(this: ChannelLike, exchange: unknown, routingKey: unknown, content: unknown, publishOptions: unknown, callback: unknown): unknown {
    if (this === null || typeof this !== 'object' || isTracingSuppressed()) return original.apply(this, arguments);
    const parent = tracer.scopeManager.active()?.span ?? null;
    if (parent === null && !options.rootSpans) return original.apply(this, arguments);
    const state = channelState(this);
    const outer = state.confirmSlot;
    const slot: ConfirmSlot = { span: null, parent, callback };
    state.confirmSlot = slot;
    try {
      return original.call(this, exchange, routingKey, content, publishOptions, confirmCallback(tracer, slot));
    } finally {
      state.confirmSlot = outer;
    }
  };
}

/**
 * Replaces the app's confirm callback (or its absence) with one that ends the producer span (a
 * broker nack or a channel closed before the confirm is an error), then calls the app's callback,
 * if any, in the context it published from: amqplib calls it from the socket's.
 */
function confirmCallback(tracer: Tracer, slot: ConfirmSlot): (err: unknown) => unknown {
  return function confirmWithTrace(this: unknown, err: unknown): unknown {
    const span = slot.span;
    if (span !== null && !span.isFinished()) {
      try {
        if (span.isRecording()) span.setTag('messaging.rabbitmq.confirm', err === null || err === undefined ? 'ack' : 'nack');
        if (err !== null && err !== undefined) fail(span, err);
        span.finish();
      } catch {
        // Recording must never stop the app's callback.
      }
    }
    const callback = slot.callback;
    if (typeof callback !== 'function') return undefined;
    if (slot.parent === null) return callback.apply(this, arguments);
    return tracer.scopeManager.run(slot.parent, () => callback.apply(this, arguments as unknown as unknown[]));
  };
}

// --- channel machinery ---------------------------------------------------------------------------

function sendImmediatelyWrapper(original: AnyFunction): AnyFunction {
  return function sendImmediatelyWithTrace(this: object, method: unknown, fields: unknown): unknown {
    const result = original.apply(this, arguments);
    if (method === BASIC_ACK || method === BASIC_NACK || method === BASIC_REJECT) {
      const state = existingState(this);
      if (state !== undefined && fields !== null && typeof fields === 'object') settleByFrame(state, method, fields);
    }
    return result;
  };
}

function acceptWrapper(original: AnyFunction): AnyFunction {
  return function acceptWithTrace(this: object, frame: { id?: unknown; fields?: { replyCode?: unknown; replyText?: unknown } } | null): unknown {
    if (frame !== null && typeof frame === 'object' && frame.id === CHANNEL_CLOSE) {
      const state = existingState(this);
      if (state !== undefined) {
        const code = frame.fields?.replyCode;
        const text = frame.fields?.replyText;
        state.closedBy = { code: typeof code === 'number' ? code : 0, text: typeof text === 'string' ? text : '' };
      }
    }
    return original.apply(this, arguments);
  };
}

function toClosedWrapper(original: AnyFunction): AnyFunction {
  return function toClosedWithTrace(this: object): unknown {
    // The original emits 'close', which fails every unconfirmed publish (ending those spans) first.
    const result = original.apply(this, arguments);
    const state = existingState(this);
    if (state !== undefined) settleOnClose(state);
    return result;
  };
}

/** Callback-API replies arrive from the socket: give the callback the context of the call that asked. */
function rpcWrapper(original: AnyFunction, tracer: Tracer): AnyFunction {
  return function _rpcWithTrace(this: object, method: unknown, fields: unknown, expect: unknown, callback: unknown): unknown {
    const parent = typeof callback === 'function' ? tracer.scopeManager.active()?.span ?? null : null;
    if (parent === null) return original.apply(this, arguments);
    return original.call(this, method, fields, expect, inScope(tracer, parent, callback as AnyFunction));
  };
}

function closeBecauseWrapper(original: AnyFunction, tracer: Tracer): AnyFunction {
  return function closeBecauseWithTrace(this: object, reason: unknown, code: unknown, callback: unknown): unknown {
    const parent = typeof callback === 'function' ? tracer.scopeManager.active()?.span ?? null : null;
    if (parent === null) return original.apply(this, arguments);
    return original.call(this, reason, code, inScope(tracer, parent, callback as AnyFunction));
  };
}

function inScope(tracer: Tracer, parent: Span, fn: AnyFunction): AnyFunction {
  return function (this: unknown): unknown {
    return tracer.scopeManager.run(parent, () => fn.apply(this, arguments as unknown as unknown[]));
  };
}

function connectWrapper(original: AnyFunction, tracer: Tracer, options: AmqpOptions): AnyFunction {
  return function connectWithTrace(this: unknown, url: unknown, socketOptions: unknown, openCallback: unknown): unknown {
    if (typeof openCallback !== 'function') return original.apply(this, arguments);
    const peer = peerFromUrl(url, options);
    const parent = tracer.scopeManager.active()?.span ?? null;
    const callback = openCallback as AnyFunction;
    return original.call(this, url, socketOptions, function openWithTrace(this: unknown, err: unknown, connection: unknown): unknown {
      if (peer !== undefined && connection !== null && typeof connection === 'object') peers.set(connection, peer);
      if (parent === null) return callback.apply(this, arguments);
      return tracer.scopeManager.run(parent, () => callback.apply(this, arguments as unknown as unknown[]));
    });
  };
}

/** Host and port from what `connect` accepts (a URL string or an object); credentials are never read. */
export function peerFromUrl(url: unknown, options: AmqpOptions): PeerInfo | undefined {
  let hostname: string | undefined;
  let port: number | undefined;
  let secure = false;
  if (url === undefined || url === null) hostname = 'localhost';
  else if (typeof url === 'string') {
    try {
      const parsed = new URL(url);
      hostname = parsed.hostname.replace(/^\[|\]$/g, '');
      port = parsed.port === '' ? undefined : Number(parsed.port);
      secure = parsed.protocol === 'amqps:';
    } catch {
      return undefined;
    }
  } else if (typeof url === 'object') {
    const o = url as { hostname?: unknown; port?: unknown; protocol?: unknown };
    hostname = typeof o.hostname === 'string' ? o.hostname : 'localhost';
    port = typeof o.port === 'number' ? o.port : typeof o.port === 'string' && o.port !== '' ? Number(o.port) : undefined;
    secure = o.protocol === 'amqps';
  }
  if (hostname === undefined || hostname === '') return undefined;
  const finalPort = port !== undefined && Number.isFinite(port) ? port : secure ? 5671 : 5672;
  const service = options.peerServices[`${hostname}:${finalPort}`] ?? options.peerServices[hostname];
  return { hostname, port: finalPort, service };
}

// --- consuming -----------------------------------------------------------------------------------

function consumeWrapper(original: AnyFunction, tracer: Tracer, log: Log): AnyFunction {
  return function consumeWithTrace(this: ChannelLike, queue: unknown, callback: unknown, options: unknown): unknown {
    if (typeof callback !== 'function' || this === null || typeof this !== 'object') return original.apply(this, arguments);
    const args = Array.prototype.slice.call(arguments) as unknown[];
    args[1] = consumerCallback(tracer, log, this, queue, callback as AnyFunction, noAckOf(options));
    return original.apply(this, args);
  };
}

function noAckOf(options: unknown): boolean {
  return options !== null && typeof options === 'object' && (options as { noAck?: unknown }).noAck === true;
}

/**
 * The app's consume callback, run inside a consumer span. The span ends when the message is settled
 * (see `sendImmediatelyWrapper`), or — with `noAck`, where nothing will be settled — when the callback
 * returns (when the promise it returns settles). `null` (the broker cancelled the consumer) passes through.
 */
function consumerCallback(tracer: Tracer, log: Log, channel: ChannelLike, queue: unknown, callback: AnyFunction, noAck: boolean): AnyFunction {
  return function consumeCallbackWithTrace(this: unknown, message: unknown): unknown {
    if (message === null || typeof message !== 'object' || isTracingSuppressed()) return callback.apply(this, arguments);
    // Called by amqplib, outside the guard `wrap` puts around our wrappers: a failure of ours must
    // still hand the app its message.
    let span: Span;
    let state: ChannelState | undefined;
    const tag = (message as MessageLike).fields?.deliveryTag;
    try {
      span = startConsumerSpan(tracer, message as MessageLike, queue, 'process', null, peerOf(channel));
      state = noAck ? undefined : channelState(channel);
      if (state !== undefined && typeof tag === 'number') state.unsettled.set(tag, span);
    } catch (err) {
      log.warnOnce('amqplib-consume', `amqplib: a message is processed untraced: ${String(err)}`);
      return callback.apply(this, arguments);
    }
    return runInSpan(tracer, span, callback, this, arguments as unknown as unknown[], state, tag, noAck);
  };
}

function runInSpan(
  tracer: Tracer, span: Span, callback: AnyFunction, self: unknown, args: unknown[],
  state: ChannelState | undefined, tag: unknown, noAck: boolean,
): unknown {
  let result: unknown;
  try {
    result = tracer.scopeManager.run(span, () => callback.apply(self, args));
  } catch (err) {
    // amqplib does not settle a message whose callback threw (and may close the channel): end it here.
    fail(span, err);
    if (state !== undefined && typeof tag === 'number') state.unsettled.delete(tag);
    settle(span, 'callback_error');
    throw err;
  }
  if (!noAck) return result;
  if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
    (result as PromiseLike<unknown>).then(
      () => settle(span, 'auto_ack'),
      (err: unknown) => {
        fail(span, err);
        settle(span, 'auto_ack');
      },
    );
  } else settle(span, 'auto_ack');
  return result;
}

function getOptions(options: unknown): boolean {
  return noAckOf(options);
}

function promiseGetWrapper(original: AnyFunction, tracer: Tracer, log: Log): AnyFunction {
  return function getWithTrace(this: ChannelLike, queue: unknown, options: unknown): unknown {
    const result = original.apply(this, arguments);
    if (this === null || typeof this !== 'object' || result === null || typeof result !== 'object' || typeof (result as Promise<unknown>).then !== 'function') return result;
    const channel = this;
    const noAck = getOptions(options);
    // `then` without a rejection handler: a failure reaches the app as the same rejection.
    return (result as Promise<unknown>).then((message) => {
      if (message !== null && typeof message === 'object' && !isTracingSuppressed()) {
        try {
          startGetSpan(tracer, channel, message as MessageLike, queue, noAck);
        } catch (err) {
          log.warnOnce('amqplib-get', `amqplib: a message from get is untraced: ${String(err)}`);
        }
      }
      return message;
    });
  };
}

function callbackGetWrapper(original: AnyFunction, tracer: Tracer, log: Log): AnyFunction {
  return function getWithTrace(this: ChannelLike, queue: unknown, options: unknown, callback: unknown): unknown {
    if (typeof callback !== 'function' || this === null || typeof this !== 'object') return original.apply(this, arguments);
    const channel = this;
    const noAck = getOptions(options);
    const parent = tracer.scopeManager.active()?.span ?? null;
    const cb = callback as AnyFunction;
    return original.call(this, queue, options, function getCallbackWithTrace(this: unknown, err: unknown, message: unknown): unknown {
      if (err !== null && err !== undefined || message === null || typeof message !== 'object' || isTracingSuppressed()) {
        return parent === null ? cb.apply(this, arguments) : tracer.scopeManager.run(parent, () => cb.apply(this, arguments as unknown as unknown[]));
      }
      let span: Span;
      let state: ChannelState | undefined;
      try {
        span = startGetSpan(tracer, channel, message as MessageLike, queue, noAck, parent, false);
        state = noAck ? undefined : channelState(channel);
      } catch (err) {
        log.warnOnce('amqplib-get', `amqplib: a message from get is untraced: ${String(err)}`);
        return cb.apply(this, arguments);
      }
      return runInSpan(tracer, span, cb, this, arguments as unknown as unknown[], state, (message as MessageLike).fields?.deliveryTag, noAck);
    });
  };
}

/**
 * The consumer span of a message `get` returned: child of the producer's context, else of the span
 * that called `get`. With `noAck` nothing will settle it: it ends at once (promise API) or when the
 * callback returns (callback API, `settleNow` false).
 */
function startGetSpan(
  tracer: Tracer, channel: ChannelLike, message: MessageLike, queue: unknown, noAck: boolean,
  parent: Span | null = tracer.scopeManager.active()?.span ?? null, settleNow = true,
): Span {
  const span = startConsumerSpan(tracer, message, queue, 'receive', parent, peerOf(channel));
  const tag = message.fields?.deliveryTag;
  if (!noAck && typeof tag === 'number') channelState(channel).unsettled.set(tag, span);
  else if (noAck && settleNow) settle(span, 'auto_ack');
  return span;
}
