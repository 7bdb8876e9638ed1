import {
  FORMAT_TEXT_MAP, recordError, writableTags, type AgentSettings, type CarrierSetter, type Span, type TagMap as Tags, type Tracer,
} from '../../src/agent/instrumentation.js';

/**
 * The spans of the amqplib instrumentation: a producer span per published message, a consumer span
 * per message delivered to a `consume` callback or returned by `get`, and the bookkeeping that ends
 * consumer spans when the message is settled (ack, nack, reject) or its channel closes.
 *
 * What is recorded follows OpenTelemetry's messaging conventions, in our tag style: destination
 * (exchange), routing key, queue, message and correlation ids, body size; never the body, never a
 * header value.
 */

/** The parts of an amqplib message we read (`{ fields, properties, content }`). */
export interface MessageLike {
  fields?: { deliveryTag?: unknown; redelivered?: unknown; exchange?: unknown; routingKey?: unknown } | null;
  properties?: { headers?: unknown; messageId?: unknown; correlationId?: unknown } | null;
  content?: unknown;
}

/** Where a connection goes, read once when it opens (the URL's host, never its credentials). */
export interface PeerInfo {
  hostname: string;
  port: number;
  service: string | undefined;
}

/** What the instrumentation knows about one channel, kept on the channel under a symbol. */
export interface ChannelState {
  /** Set for the duration of a confirm channel's `publish` call: `sendMessage` puts its span there. */
  confirmSlot: ConfirmSlot | null;
  /** Consumer spans of messages not yet settled, by delivery tag (ascending, as the broker numbers them). */
  unsettled: Map<number, Span>;
  /** What the broker said when it closed the channel, if it did. */
  closedBy: { code: number; text: string } | null;
}

/** One confirm-channel publish: its span (once sent), the context it was made in, the app's callback. */
export interface ConfirmSlot {
  span: Span | null;
  parent: Span | null;
  callback: unknown;
}

export const CHANNEL_STATE = Symbol('acme.tracing.amqpChannel');

export interface AmqpOptions {
  rootSpans: boolean;
  peerServices: Readonly<Record<string, string>>;
}

/**
 * The options `ctx.options` holds: the agent-wide settings, unless this instrumentation's section of
 * the config file sets its own `messagingRootSpans` or `peerServices`; anything malformed is ignored.
 */
export function readAmqpOptions(raw: Readonly<Record<string, unknown>>, settings: Pick<AgentSettings, 'peerServices' | 'messagingRootSpans'>): AmqpOptions {
  const peer = raw.peerServices;
  return {
    rootSpans: typeof raw.messagingRootSpans === 'boolean' ? raw.messagingRootSpans : settings.messagingRootSpans,
    peerServices: peer !== null && typeof peer === 'object' ? (peer as Record<string, string>) : settings.peerServices,
  };
}

export function channelState(channel: object): ChannelState {
  const holder = channel as { [CHANNEL_STATE]?: ChannelState };
  let state = holder[CHANNEL_STATE];
  if (state === undefined) {
    state = { confirmSlot: null, unsettled: new Map(), closedBy: null };
    // Not enumerable: the channel is the library's object, and the app may inspect it.
    Object.defineProperty(channel, CHANNEL_STATE, { value: state, configurable: true, writable: true });
  }
  return state;
}

export function existingState(channel: unknown): ChannelState | undefined {
  return channel !== null && typeof channel === 'object' ? (channel as { [CHANNEL_STATE]?: ChannelState })[CHANNEL_STATE] : undefined;
}

// Server-named queues (`amq.gen-…`) are unique per queue: as a span name they would make every
// reply queue its own operation. Names are cached (bounded), so a message costs no string building.
const names = new Map<string, string>();
const NAME_CACHE_MAX = 512;

export function operationName(verb: 'publish' | 'process' | 'receive', destination: string): string {
  const key = `${verb}\0${destination}`;
  let name = names.get(key);
  if (name !== undefined) return name;
  const label = destination === '' ? '(default)' : destination.startsWith('amq.gen-') ? '(temporary)' : destination;
  name = `${verb} ${label}`;
  if (names.size >= NAME_CACHE_MAX) names.clear();
  names.set(key, name);
  return name;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function commonTags(own: Tags, peer: PeerInfo | undefined, kind: 'producer' | 'consumer'): void {
  own['span.kind'] = kind;
  own.component = 'amqplib';
  own['messaging.system'] = 'rabbitmq';
  if (peer !== undefined) {
    own['peer.hostname'] = peer.hostname;
    own['peer.port'] = peer.port;
    if (peer.service !== undefined) own['peer.service'] = peer.service;
  }
}

function messageTags(own: Tags, properties: MessageLike['properties'], content: unknown): void {
  const id = text(properties?.messageId);
  if (id !== undefined) own['messaging.message.id'] = id;
  const correlation = text(properties?.correlationId);
  if (correlation !== undefined) own['messaging.message.conversation_id'] = correlation;
  if (content instanceof Uint8Array) own['messaging.message.body.size'] = content.length;
}

/**
 * Writes our context into the message's headers without touching the app's: amqplib builds the
 * headers it sends as `Object.create(appHeaders)`, so ours become own properties of that object and
 * the app's object is never changed. A header the app set itself (any case) is kept and ours skipped:
 * `appHeaderNames` holds the app's names, lower-cased, for the one publish being injected.
 */
let appHeaderNames: string[] | null = null;
const headersSetter: CarrierSetter = {
  set(carrier, name, value) {
    if (appHeaderNames !== null && appHeaderNames.includes(name)) return;
    (carrier as Record<string, unknown>)[name] = value;
  },
};

function injectHeaders(tracer: Tracer, span: Span, headers: object): void {
  let names: string[] | null = null;
  // for-in: the app's headers are the prototype of amqplib's object (and any own ones it added).
  for (const key in headers) (names ??= []).push(key.toLowerCase());
  appHeaderNames = names;
  try {
    tracer.inject(span, FORMAT_TEXT_MAP, headers, headersSetter);
  } finally {
    appHeaderNames = null;
  }
}

/**
 * Starts the producer span of one publish, child of `parent`, or of nothing when `parent` is null
 * (the caller decided a root span is wanted), and injects its context into `properties.headers`.
 */
export function startProducerSpan(
  tracer: Tracer, parent: Span | null, fields: { exchange?: unknown; routingKey?: unknown },
  properties: { headers?: unknown; messageId?: unknown; correlationId?: unknown }, content: unknown, peer: PeerInfo | undefined,
): Span {
  const exchange = text(fields.exchange) ?? '';
  const routingKey = text(fields.routingKey) ?? '';
  const name = operationName('publish', exchange !== '' ? exchange : routingKey);
  const span = parent === null ? tracer.startSpan(name, { ignoreActiveSpan: true }) : tracer.startSpan(name, { childOf: parent });
  const own = writableTags(span);
  if (own !== null) {
    commonTags(own, peer, 'producer');
    own['messaging.operation.type'] = 'send';
    own['messaging.operation.name'] = 'publish';
    own['messaging.destination.name'] = exchange;
    if (routingKey !== '') own['messaging.rabbitmq.destination.routing_key'] = routingKey;
    messageTags(own, properties, content);
  }
  const headers = properties.headers;
  if (headers !== null && typeof headers === 'object') injectHeaders(tracer, span, headers);
  return span;
}

/**
 * Starts the consumer span of one delivered message: child of the producer's context carried in the
 * headers; without one, child of `fallbackParent` (the caller of `get`) or a new trace. Never the
 * span that happens to be active where amqplib reads the socket: that is whoever opened the connection.
 */
export function startConsumerSpan(
  tracer: Tracer, message: MessageLike, queue: unknown, operation: 'process' | 'receive',
  fallbackParent: Span | null, peer: PeerInfo | undefined,
): Span {
  const fields = message.fields ?? {};
  const properties = message.properties ?? {};
  const queueName = text(queue);
  const exchange = text(fields.exchange) ?? '';
  const name = operationName(operation, queueName ?? exchange);
  const headers = properties.headers;
  const carried = headers !== null && typeof headers === 'object' ? tracer.extract(FORMAT_TEXT_MAP, headers) : null;
  const parent = carried ?? fallbackParent;
  const span = parent === null ? tracer.startSpan(name, { ignoreActiveSpan: true }) : tracer.startSpan(name, { childOf: parent });
  const own = writableTags(span);
  if (own !== null) {
    commonTags(own, peer, 'consumer');
    own['messaging.operation.type'] = operation;
    own['messaging.operation.name'] = operation === 'process' ? 'consume' : 'get';
    own['messaging.destination.name'] = exchange;
    const routingKey = text(fields.routingKey);
    if (routingKey !== undefined && routingKey !== '') own['messaging.rabbitmq.destination.routing_key'] = routingKey;
    if (queueName !== undefined) own['messaging.destination.subscription.name'] = queueName;
    if (typeof fields.deliveryTag === 'number') own['messaging.rabbitmq.message.delivery_tag'] = fields.deliveryTag;
    if (fields.redelivered === true) own['messaging.rabbitmq.redelivered'] = true;
    messageTags(own, properties, message.content);
  }
  return span;
}

/** How a consumer span ended. */
export type Outcome = 'ack' | 'nack' | 'reject' | 'auto_ack' | 'channel_closed' | 'callback_error';

export function settle(span: Span, outcome: Outcome, requeue?: boolean): void {
  if (span.isFinished()) return;
  const own = writableTags(span);
  if (own !== null) {
    own['messaging.rabbitmq.outcome'] = outcome;
    if (requeue !== undefined) own['messaging.rabbitmq.requeue'] = requeue;
  }
  span.finish();
}

// AMQP 0-9-1 method ids ((class << 16) | method), the same in every amqplib version.
export const BASIC_ACK = 3932240;
export const BASIC_REJECT = 3932250;
export const BASIC_NACK = 3932280;
export const CHANNEL_CLOSE = 1310760;

/**
 * Ends the consumer spans an ack, nack or reject frame settles: one delivery tag, or with `multiple`
 * every tag up to it (tag 0 with `multiple`: all, as `ackAll`/`nackAll` send).
 */
export function settleByFrame(state: ChannelState, method: number, fields: { deliveryTag?: unknown; multiple?: unknown; requeue?: unknown }): void {
  if (state.unsettled.size === 0) return;
  const tag = typeof fields.deliveryTag === 'number' ? fields.deliveryTag : -1;
  const outcome: Outcome = method === BASIC_ACK ? 'ack' : method === BASIC_NACK ? 'nack' : 'reject';
  const requeue = method === BASIC_ACK ? undefined : fields.requeue !== false;
  if (fields.multiple === true && method !== BASIC_REJECT) {
    for (const [t, span] of state.unsettled) {
      if (tag !== 0 && t > tag) break;
      state.unsettled.delete(t);
      settle(span, outcome, requeue);
    }
    return;
  }
  const span = state.unsettled.get(tag);
  if (span === undefined) return;
  state.unsettled.delete(tag);
  settle(span, outcome, requeue);
}

/**
 * Ends every consumer span still open on a channel that closed; a close the broker caused is an
 * error. (Unconfirmed publishes end through their confirm callbacks, which amqplib fails on close.)
 */
export function settleOnClose(state: ChannelState): void {
  if (state.unsettled.size === 0) return;
  const spans = [...state.unsettled.values()];
  state.unsettled.clear();
  for (const span of spans) {
    if (state.closedBy !== null) recordBrokerClose(span, state.closedBy);
    settle(span, 'channel_closed');
  }
}

export function recordBrokerClose(span: Span, closedBy: { code: number; text: string }): void {
  if (!span.isRecording()) return;
  span.setTag('error', true);
  span.setTag('messaging.rabbitmq.reply_code', closedBy.code);
  span.log({ event: 'error', 'error.kind': 'ChannelClosed', message: `Channel closed by the broker: ${closedBy.code} ${closedBy.text}` });
}

/** Records a failure on `span` (the error object is only read). */
export function fail(span: Span, err: unknown): void {
  recordError(span, err);
}
