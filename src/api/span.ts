import { elapsedInto, nowInto, nowMs } from '../util/clock.js';
import { type Reference } from './reference.js';
import { SpanContext } from './span-context.js';
import type { Tracer } from './tracer.js';

/** @internal What a recording span reports to when it finishes: the tracer that started it. */
export interface FinishedSpanSink {
  _spanFinished(span: Span): void;
}

/** A tag value: what OpenTracing and the exporters accept. */
export type TagValue = string | number | boolean;

/** Tags keyed by name; no `Object.prototype` in the chain, since keys may come from users and headers. */
export type Tags = Record<string, TagValue>;

/**
 * The store behind a span's tags. An empty, frozen, null-prototype object as prototype gives what
 * `Object.create(null)` gives (`__proto__`, `constructor` or `toString` as keys are plain own
 * properties) while V8 keeps the object in fast mode: `Object.create(null)` starts in dictionary
 * mode, which made every `setTag` a hash insert and every export walk a hash table (about 3× slower
 * per span for the 8 tags of a database span, measured with benchmarks/db/span-micro.mjs).
 */
const TagStore = function TagStore(this: Tags): void {} as unknown as new () => Tags;
TagStore.prototype = Object.freeze(Object.create(null) as object) as Tags;

/**
 * What a hot path knows of a span's tags when it starts it, kept as it was, in one array, instead of a tag store:
 * element 0 is the shape, whose `fill` makes the tags from the other elements. Making the tags at the start is a
 * store, one map transition per tag (a map, a store and a write-barrier check each) and the values' own code (a
 * URL joined and redacted, the peer's key), all cold for a request that follows idle time. The store is made
 * from the array the first time anything sets or reads the span's tags (`Span.tags`, `setTag`, `_writableTags`,
 * `addTags`), so every reader sees the object, the order and the values it saw before; the OTLP encoder makes
 * it when it writes the span, where its code is warm for every span of a group after the first.
 */
export type PresetTags = [PresetShape, ...unknown[]];

/** A kind of `PresetTags`. */
export interface PresetShape {
  /** Writes the tags `tags` stands for into `into`, in the order a hot path would have set them. */
  readonly fill: (into: Tags, tags: PresetTags) => void;
}

/**
 * What a span started through the OpenTelemetry API carries beyond OpenTracing's model:
 * the instrumentation scope that started it, links with attributes, and an explicit status. Kept in
 * one optional object so spans of the agent's own instrumentations pay one null field for it. A type of
 * the instrumentation API (it re-exports it): kept in the shipped declarations.
 */
export interface SpanExtras {
  /** The OpenTelemetry instrumentation scope (`trace.getTracer(name, version)`). */
  scopeName: string;
  scopeVersion: string;
  links: SpanLinkRecord[] | null;
  /** OTLP status code set through `setStatus`: 0 unset, 1 ok, 2 error. */
  statusCode: 0 | 1 | 2;
  statusMessage: string;
}

/** A link with attributes, exported as an OTLP link (instrumentation API, as `SpanExtras`). */
export interface SpanLinkRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** One structured log entry on a span (an OTLP event once exported). */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A timed operation. Recording spans keep what you set on them and are exported when finished;
 * non-recording spans (unsampled traces) carry their context for propagation and record nothing.
 */
export class Span {
  // @internal fields below are read by the OTLP encoder (export/otlp-span-protobuf.ts) rather than through
  // the getters: on Node 24 each getter called per exported span is one more function Maglev compiles at
  // a load's start, ~0.12 MB of peak RSS each (docs/performance.md, round fifteen).
  /** @internal */
  _context: SpanContext;
  /** @internal */
  _name: string;
  /** @internal Null until the first tag; `PresetTags` until its tags are first set or read (see there). */
  _tags: Tags | PresetTags | null = null;
  /**
   * Where the start (epoch milliseconds) and the duration (-1 until finished) are: two numbers of a
   * slab many spans share (see `TimeSlots`). In fields of their own they were two heap numbers per span
   * (V8 boxes a field holding a non-integer number), 32 bytes a span for the young generation to sweep.
   * @internal Read by the OTLP encoder.
   */
  readonly _times: Float64Array;
  /** @internal */
  readonly _timeAt: number;
  private readonly _tracer: Tracer;
  private readonly _recording: boolean;
  /** @internal The parent's context (its span id is exported as the parent span id); null for a root span. */
  readonly _parent: SpanContext | null;
  /**
   * What few spans have (logs, references, the OpenTelemetry API's extras, its face), in one object
   * made on first need: four fields a span less to allocate. Null for most spans.
   * @internal
   */
  _rare: RareParts | null;

  // Private: the factories below say which kind of span a call site makes.
  private constructor(
    tracer: Tracer,
    name: string,
    context: SpanContext,
    parent: SpanContext | null,
    startTime: number | undefined,
    recording: boolean,
    references: readonly Reference[] | null,
  ) {
    this._tracer = tracer;
    this._name = name;
    this._context = context;
    this._parent = parent;
    const slots = timeSlots;
    let at = slots.next;
    if (at === TIME_SLAB_LENGTH) at = timeSlots.renew();
    slots.next = at + 2;
    this._times = slots.slab;
    this._timeAt = at;
    // The clock is read here rather than by the caller: a number handed through a call that V8 does not
    // inline is boxed (a heap number, 16 bytes) on the way.
    if (startTime === undefined) nowInto(slots.slab, at);
    else slots.slab[at] = startTime;
    slots.slab[at + 1] = -1;
    this._recording = recording;
    this._rare = references === null ? null : new RareParts(references);
  }

  /** Milliseconds since the epoch. */
  get startTime(): number {
    return this._times[this._timeAt]!;
  }

  /** `follows_from` (and extra `child_of`) references, exported as links; null when none. */
  get references(): readonly Reference[] | null {
    const rare = this._rare;
    return rare === null ? null : rare.references;
  }

  /** @internal Scope, links and status of a span started through the OpenTelemetry API; null otherwise. */
  get _extras(): SpanExtras | null {
    const rare = this._rare;
    return rare === null ? null : rare.extras;
  }

  /** @internal */
  set _extras(extras: SpanExtras | null) {
    (this._rare ??= new RareParts(null)).extras = extras;
  }

  /**
   * @internal The span seen through another tracing API (the OpenTelemetry bridge's `Span`), made
   * on first use and kept here so that it is always the same object; undefined until then. Kept on
   * the span rather than in a `WeakMap` beside it: every span the bridge sees would be an ephemeron
   * entry, which V8's garbage collector processes on every scavenge while the span lives.
   */
  get _face(): object | undefined {
    const rare = this._rare;
    return rare === null ? undefined : rare.face;
  }

  /** @internal */
  set _face(face: object | undefined) {
    (this._rare ??= new RareParts(null)).face = face;
  }

  /**
   * @internal A span of a sampled trace: keeps what is set on it and, once finished, goes to
   * `tracer._spanFinished`. `parent` is null for a root span; `startTime` in epoch milliseconds
   * (undefined: now).
   */
  static recording(
    tracer: Tracer & FinishedSpanSink,
    name: string,
    context: SpanContext,
    parent: SpanContext | null,
    startTime: number | undefined,
    references: readonly Reference[] | null,
  ): Span {
    return new Span(tracer, name, context, parent, startTime, true, references);
  }

  /**
   * @internal A span of an unsampled trace: named and linked to its parent like a recording one,
   * so its context propagates, but it records nothing and is never exported.
   */
  static unsampled(
    tracer: Tracer,
    name: string,
    context: SpanContext,
    parent: SpanContext | null,
    startTime: number | undefined,
    references: readonly Reference[] | null,
  ): Span {
    return new Span(tracer, name, context, parent, startTime, false, references);
  }

  /**
   * @internal A span that records nothing and carries `context` (for propagation only): the
   * no-op tracer's one span. Recording spans come from `Tracer.startSpan`.
   */
  static nonRecording(tracer: Tracer, context: SpanContext): Span {
    return new Span(tracer, '', context, null, 0, false, null);
  }

  /** The parent's span id, or '' for a root span. */
  get parentSpanId(): string {
    const parent = this._parent;
    return parent === null ? '' : parent.spanId;
  }

  /** The context to propagate or to use as a parent. */
  context(): SpanContext {
    return this._context;
  }

  /** The tracer that started this span. */
  tracer(): Tracer {
    return this._tracer;
  }

  /** Whether this span records data (its trace is sampled). */
  isRecording(): boolean {
    return this._recording;
  }

  /** Whether `finish()` has been called. */
  isFinished(): boolean {
    return this._times[this._timeAt + 1]! >= 0;
  }

  get operationName(): string {
    return this._name;
  }

  /** Duration in milliseconds; -1 until finished. */
  get duration(): number {
    return this._times[this._timeAt + 1]!;
  }

  /** The tags set so far (do not mutate); an empty object when none. */
  get tags(): Readonly<Tags> {
    const tags = this._tags;
    return tags === null ? EMPTY_TAGS : Array.isArray(tags) ? this._storeFrom(tags) : tags;
  }

  /** The logs recorded so far; an empty array when none. */
  get logs(): readonly LogRecord[] {
    const rare = this._rare;
    return rare === null || rare.logs === null ? EMPTY_LOGS : rare.logs;
  }

  setOperationName(name: string): this {
    if (this._recording && this.duration < 0) this._name = String(name);
    return this;
  }

  setTag(key: string, value: TagValue): this {
    if (this._recording && this.duration < 0) this._store()[key] = value;
    return this;
  }

  /** The tag store, made now if the span has none (or its preset tags only). */
  private _store(): Tags {
    const tags = this._tags;
    return tags === null ? (this._tags = new TagStore()) : Array.isArray(tags) ? this._storeFrom(tags) : tags;
  }

  /** The tag store made from preset tags, in their order; kept as the span's from now on. */
  private _storeFrom(preset: PresetTags): Tags {
    const store = new TagStore();
    preset[0].fill(store, preset);
    this._tags = store;
    return store;
  }

  /**
   * @internal Gives a span that has no tag yet the tags a hot path knows at its start (see `PresetTags`); a
   * span with tags gets them written into its store. Ignored when the span records nothing or is finished.
   */
  _presetTags(tags: PresetTags): void {
    if (!this._recording || this.duration >= 0) return;
    const own = this._tags;
    if (own === null) this._tags = tags;
    else tags[0].fill(Array.isArray(own) ? this._storeFrom(own) : own, tags);
  }

  /**
   * @internal The span's preset tags while it still has them (see `PresetTags`), else null: a hot path that
   * gave them writes what it learns later (a response's status) into its own elements.
   */
  _presetTagsNow(): PresetTags | null {
    const tags = this._tags;
    return Array.isArray(tags) ? tags : null;
  }

  /**
   * @internal The object this span keeps its tags in, or null when the span records nothing or is
   * finished. For the agent's own hot paths that set a fixed list of tags right after `startSpan`:
   * there each property write stays monomorphic, where the store inside `setTag` is shared by every
   * caller and every key. Values written here must be tag values (string, number, boolean).
   */
  _writableTags(): Tags | null {
    if (!this._recording || this.duration >= 0) return null;
    return this._store();
  }

  addTags(tags: Readonly<Record<string, TagValue>>): this {
    if (this._recording && this.duration < 0 && tags !== null && typeof tags === 'object') {
      const own = this._store();
      for (const key of Object.keys(tags)) own[key] = tags[key]!;
    }
    return this;
  }

  /**
   * Adds a structured log entry. `timestamp` is in milliseconds since the epoch (default: now).
   * The fields are copied, so later changes to the object do not alter the span.
   */
  log(fields: Readonly<Record<string, unknown>>, timestamp?: number): this {
    if (this._recording && this.duration < 0 && fields !== null && typeof fields === 'object') {
      const copy: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(fields)) copy[key] = fields[key];
      ((this._rare ??= new RareParts(null)).logs ??= []).push({ timestamp: typeof timestamp === 'number' ? timestamp : nowMs(), fields: copy });
    }
    return this;
  }

  /**
   * Sets a baggage item. Baggage travels to every child span and, through `inject`, to every
   * downstream service, so keep it small. Works on unsampled spans too.
   */
  setBaggageItem(key: string, value: string): this {
    if (this.duration < 0) this._context = this._context.withBaggageItem(String(key), String(value));
    return this;
  }

  getBaggageItem(key: string): string | undefined {
    return this._context.getBaggageItem(key);
  }

  /** Ends the span; `finishTime` is in milliseconds since the epoch. A second call is ignored. */
  finish(finishTime?: number): void {
    const times = this._times;
    const at = this._timeAt;
    if (times[at + 1]! >= 0) return;
    if (!this._recording) {
      times[at + 1] = 0;
      return;
    }
    if (typeof finishTime === 'number') {
      const start = times[at]!;
      times[at + 1] = finishTime >= start ? finishTime - start : 0;
    } else {
      elapsedInto(times, at);
    }
    (this._tracer as Tracer & FinishedSpanSink)._spanFinished(this);
  }
}

/** @internal A span's rarely set parts (see `Span._rare`). */
export class RareParts {
  logs: LogRecord[] | null = null;
  extras: SpanExtras | null = null;
  face: object | undefined = undefined;
  constructor(readonly references: readonly Reference[] | null) {}
}

/** Numbers in a slab: 512 spans' start and duration. */
const TIME_SLAB_LENGTH = 1024;

/**
 * The slab spans take their two time slots from, in order; a full one is left to the spans that use it
 * (it is freed with the last of them) and a new one begun. 8 KiB a slab: a span kept after its slab's other
 * spans are gone keeps those 8 KiB alive, as an id kept keeps its 16 KiB id block (util/ids.ts).
 */
class TimeSlots {
  slab = new Float64Array(TIME_SLAB_LENGTH);
  next = 0;

  renew(): number {
    this.slab = new Float64Array(TIME_SLAB_LENGTH);
    this.next = 0;
    return 0;
  }
}

const timeSlots = new TimeSlots();

const EMPTY_TAGS: Readonly<Tags> = Object.freeze(Object.create(null) as Tags);
const EMPTY_LOGS: readonly LogRecord[] = Object.freeze([]) as readonly LogRecord[];

/**
 * Marks a span as failed the OpenTracing way: tag `error=true` and a log with
 * `event: 'error'`, `error.kind`, `message` and `stack`.
 */
export function recordError(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  span.setTag('error', true);
  const fields: Record<string, unknown> = { event: 'error' };
  if (err instanceof Error) {
    fields['error.kind'] = err.name;
    fields.message = err.message;
    if (typeof err.stack === 'string') fields.stack = err.stack;
  } else {
    fields['error.kind'] = typeof err;
    fields.message = safeString(err);
  }
  span.log(fields);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}
