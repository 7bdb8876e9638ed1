// The spans of an OTLP/protobuf `ExportTraceServiceRequest`: each a `ScopeSpans.spans` field, written from
// a mapped span (`writeSpan`) or straight from a finished `Span` (`writeFinishedSpan`, the batch encoder's).
// The request around them is otlp-protobuf.ts's.
import type { SpanContext } from '../api/span-context.js';
import type { Span, TagValue, Tags as TagMap } from '../api/span.js';
import { REFERENCE_FOLLOWS_FROM } from '../api/tags.js';
import { ProtoWriter } from './protobuf-writer.js';
import { mapLog, SpanKind, type MappedSpan } from './span-model.js';
import { writeKeyValue, writeTag } from './otlp-common.js';

// Field numbers from opentelemetry/proto/trace/v1/trace.proto.
const SCOPE_SPANS_SPANS = 2;
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_TRACE_STATE = 3;
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_EVENTS = 11;
const SPAN_LINKS = 13;
const SPAN_STATUS = 15;
const SPAN_FLAGS = 16;
const EVENT_TIME = 1;
const EVENT_NAME = 2;
const EVENT_ATTRIBUTES = 3;
const LINK_TRACE_ID = 1;
const LINK_SPAN_ID = 2;
const LINK_TRACE_STATE = 3;
const LINK_ATTRIBUTES = 4;
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;

export function writeSpan(w: ProtoWriter, s: MappedSpan): void {
  const m = w.begin(SCOPE_SPANS_SPANS);
  w.hexBytes(SPAN_TRACE_ID, s.traceId);
  w.hexBytes(SPAN_SPAN_ID, s.spanId);
  if (s.traceState !== '') w.string(SPAN_TRACE_STATE, s.traceState);
  if (s.parentSpanId !== '') w.hexBytes(SPAN_PARENT_SPAN_ID, s.parentSpanId);
  w.string(SPAN_NAME, s.name);
  w.uint32(SPAN_KIND, s.kind);
  w.nanosFromMs(SPAN_START, s.startMs);
  w.nanosFromMs(SPAN_END, s.startMs + s.durationMs);
  for (const a of s.attributes) writeKeyValue(w, SPAN_ATTRIBUTES, a);
  for (const e of s.events) {
    const em = w.begin(SPAN_EVENTS);
    w.nanosFromMs(EVENT_TIME, e.timeMs);
    w.string(EVENT_NAME, e.name);
    for (const a of e.attributes) writeKeyValue(w, EVENT_ATTRIBUTES, a);
    w.end(em);
  }
  for (const l of s.links) {
    const lm = w.begin(SPAN_LINKS);
    w.hexBytes(LINK_TRACE_ID, l.traceId);
    w.hexBytes(LINK_SPAN_ID, l.spanId);
    if (l.traceState !== '') w.string(LINK_TRACE_STATE, l.traceState);
    for (const a of l.attributes) writeKeyValue(w, LINK_ATTRIBUTES, a);
    w.end(lm);
  }
  if (s.statusCode !== 0) {
    const st = w.begin(SPAN_STATUS);
    if (s.statusMessage !== '') w.string(STATUS_MESSAGE, s.statusMessage);
    w.uint32(STATUS_CODE, s.statusCode);
    w.end(st);
  }
  // Only the W3C trace-flags byte: receivers read bit 0 as "sampled".
  w.fixed32(SPAN_FLAGS, s.traceFlags & 0xff);
  w.end(m);
}

/**
 * Writes a finished span as a `ScopeSpans.spans` field straight from the `Span`: the same bytes as
 * `mapSpan` followed by `writeSpan` (tested byte for byte), without the mapped copy, its attribute
 * objects and arrays. Logs, rare, still go through `mapLog`.
 */
export function writeFinishedSpan(w: ProtoWriter, span: Span, exportBaggage: boolean, memo: TagMemo): void {
  // The span's own fields rather than its getters (see `Span`).
  const ctx = span._context;
  const parent = span._parent;
  const name = span._name;
  const rare = span._rare;
  // The span's fields up to its tags are written here, by hand, with one capacity check when its ids are
  // this process's random bytes and its name short ASCII (the usual span), rather than by a helper each:
  // on Node 24 every small function that gets hot under load costs a Maglev job (see ProtoWriter): the
  // capacity checks, the name's copy and the times are written out here (`ensure` is called only to grow,
  // `copyAscii` and `nanosAt` not at all), and the kind is found by comparisons (below).
  if (w.length + name.length + 65 > w.buf.length) w.ensure(name.length + 65);
  let buf = w.buf;
  let view = w.bufView;
  let at = w.length;
  // The span's tag and two bytes for its length (written at the end).
  buf[at] = (SCOPE_SPANS_SPANS << 3) | 2;
  const m = at + 1;
  at += 3;
  // The ids: copied from their random bytes four at a time when made here; from hex text otherwise.
  const tracePool = ctx._tracePool;
  const spanPool = ctx._spanPool;
  const parentPool = parent === null ? null : parent._spanPool;
  if (tracePool !== null && spanPool !== null && ctx._carried.traceState === '' && (parent === null || parentPool !== null)) {
    buf[at] = (SPAN_TRACE_ID << 3) | 2;
    buf[at + 1] = 16;
    let from = ctx._traceAt;
    let source = tracePool.view;
    view.setUint32(at + 2, source.getUint32(from, true), true);
    view.setUint32(at + 6, source.getUint32(from + 4, true), true);
    view.setUint32(at + 10, source.getUint32(from + 8, true), true);
    view.setUint32(at + 14, source.getUint32(from + 12, true), true);
    buf[at + 18] = (SPAN_SPAN_ID << 3) | 2;
    buf[at + 19] = 8;
    from = ctx._spanAt;
    source = spanPool.view;
    view.setUint32(at + 20, source.getUint32(from, true), true);
    view.setUint32(at + 24, source.getUint32(from + 4, true), true);
    at += 28;
    if (parentPool !== null) {
      buf[at] = (SPAN_PARENT_SPAN_ID << 3) | 2;
      buf[at + 1] = 8;
      from = parent!._spanAt;
      source = parentPool.view;
      view.setUint32(at + 2, source.getUint32(from, true), true);
      view.setUint32(at + 6, source.getUint32(from + 4, true), true);
      at += 10;
    }
  } else {
    w.length = at;
    writeIdFields(w, ctx, parent);
    w.ensure(name.length + 24);
    buf = w.buf;
    view = w.bufView;
    at = w.length;
  }
  // The name, then the kind as a placeholder (every kind in `SPAN_KIND_CODES` is one byte, never 0, so the
  // field is always written): the tag loop finds `span.kind` later. The times are read from the span's
  // slots (start, then duration: see `Span`).
  const n = name.length;
  let c = 0;
  for (let i = 0; i < n && n < 128; i++) {
    c = name.charCodeAt(i);
    if (c >= 0x80) break;
    buf[at + 2 + i] = c;
  }
  if (n < 128 && c < 0x80) {
    buf[at] = (SPAN_NAME << 3) | 2;
    buf[at + 1] = n;
    at += 2 + n;
  } else {
    w.length = at;
    w.string(SPAN_NAME, name);
    w.ensure(22);
    buf = w.buf;
    view = w.bufView;
    at = w.length;
  }
  const times = span._times;
  const startMs = times[span._timeAt]!;
  const duration = times[span._timeAt + 1]!;
  const kindAt = at + 1;
  buf[at] = SPAN_KIND << 3;
  buf[at + 1] = 0;
  buf[at + 2] = (SPAN_START << 3) | 1;
  buf[at + 11] = (SPAN_END << 3) | 1;
  // Each time as `nanosAt` writes it (the same arithmetic: see there), start then end.
  for (let k = 0, ms = startMs, to = at + 3; k < 2; k++, ms = startMs + (duration < 0 ? 0 : duration), to += 9) {
    const whole = Math.floor(ms);
    const frac = Math.round((ms - whole) * 1e6);
    const high = Math.floor(whole / 2 ** 21);
    const a = high * 1e6;
    let lo = (a - Math.trunc(a / 2048) * 2048) * 2 ** 21 + (whole - high * 2 ** 21) * 1e6 + frac;
    const carry = Math.floor(lo / 2 ** 32);
    lo -= carry * 2 ** 32;
    view.setUint32(to, lo, true);
    view.setUint32(to + 4, Math.floor(a / 2048) + carry, true);
  }
  w.length = at + 20;
  // The tag loops note `span.kind` and `error` (structure, not attributes) as they pass them.
  kindTag = undefined;
  errorTag = undefined;
  // Preset tags (see `PresetTags`) become the span's tag store here: what the request's hot path kept as it was
  // (the target, the host, the peer) is made into tags in the encoder's loop, whose code runs warm for the
  // spans of a group after the first, rather than cold at each request that follows idle time.
  const own = span._tags;
  writeTagsRepeating(w, own === null ? NO_TAGS : Array.isArray(own) ? span.tags as TagMap : own, memo);
  const error = errorTag;
  // `SPAN_KIND_CODES`'s lookup written out as comparisons: `Map#get` is a call of V8's
  // FindOrderedHashMapEntry, ~85 instructions a span where these are a few (batch-instructions.mjs).
  // The same codes for every value (tested against `mapSpan`).
  const kind = kindTag;
  w.buf[kindAt] = typeof kind !== 'string' ? SpanKind.INTERNAL
    : kind === 'server' ? SpanKind.SERVER
      : kind === 'client' ? SpanKind.CLIENT
        : kind === 'producer' ? SpanKind.PRODUCER
          : kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.INTERNAL;
  if (exportBaggage && ctx.baggage !== null) {
    for (const key of Object.keys(ctx.baggage)) writeTag(w, SPAN_ATTRIBUTES, `baggage.${key}`, ctx.baggage[key]!);
  }
  let statusMessage = '';
  const logs = rare === null ? null : rare.logs;
  for (let i = 0; logs !== null && i < logs.length; i++) {
    const entry = logs[i]!;
    const e = mapLog(entry.fields, entry.timestamp);
    if (e.name === 'exception' && statusMessage === '') {
      for (const a of e.attributes) if (a.key === 'exception.message') statusMessage = String(a.value);
    }
    const em = w.begin(SPAN_EVENTS);
    w.nanosFromMs(EVENT_TIME, e.timeMs);
    w.string(EVENT_NAME, e.name);
    for (const a of e.attributes) writeKeyValue(w, EVENT_ATTRIBUTES, a);
    w.end(em);
  }
  const refs = rare === null ? null : rare.references;
  if (refs !== null) {
    for (const ref of refs) {
      const rc = ref.referencedContext();
      const lm = w.begin(SPAN_LINKS);
      w.hexBytes(LINK_TRACE_ID, rc.traceId);
      w.hexBytes(LINK_SPAN_ID, rc.spanId);
      if (rc.traceState !== '') w.string(LINK_TRACE_STATE, rc.traceState);
      writeTag(w, LINK_ATTRIBUTES, 'opentracing.ref_type', ref.type() === REFERENCE_FOLLOWS_FROM ? 'follows_from' : 'child_of');
      w.end(lm);
    }
  }
  if (error === true || error === 'true') {
    const st = w.begin(SPAN_STATUS);
    if (statusMessage !== '') w.string(STATUS_MESSAGE, statusMessage);
    w.uint32(STATUS_CODE, 2);
    w.end(st);
  }
  // Only the W3C trace-flags byte: receivers read bit 0 as "sampled". The tag of field 16 (flags),
  // wire type 5 (fixed32), is the two-byte varint 0x85 0x01.
  if (w.length + 6 > w.buf.length) w.ensure(6);
  buf = w.buf;
  at = w.length;
  buf[at] = 0x85;
  buf[at + 1] = 0x01;
  buf[at + 2] = ctx.traceFlags & 0xff;
  buf[at + 3] = 0;
  buf[at + 4] = 0;
  buf[at + 5] = 0;
  w.length = at + 6;
  // The span's length, in the two bytes left for it: no byte moves for a span of 128 bytes to 16 KiB (the
  // usual), where one byte left would mean moving the whole message, per span, to widen it. Otherwise
  // the message moves to fit, and the tags' bytes the memo points to with it.
  const len = at + 6 - m - 2;
  if (len >= 128 && len < 16384) {
    buf[m] = (len & 127) | 128;
    buf[m + 1] = len >>> 7;
  } else {
    memo.moved(m, w.placeLength(m, 2, len));
  }
}

/** A span's tags before its first (`Span._tags` is null until then). */
const NO_TAGS: TagMap = Object.freeze({});

// Tags.SPAN_KIND and Tags.ERROR, as constants of this module for the tag loops.
const SPAN_KIND_TAG = 'span.kind';
const ERROR_TAG = 'error';

/** The `span.kind` and `error` tags of the span being written, as its tag loop passed them (undefined: none). */
let kindTag: TagValue | undefined;
let errorTag: TagValue | undefined;

/** The trace id, span id, trace state and parent span id fields when some id is hex text or there is a trace state. */
function writeIdFields(w: ProtoWriter, ctx: SpanContext, parent: SpanContext | null): void {
  writeTraceId(w, SPAN_TRACE_ID, ctx);
  writeSpanId(w, SPAN_SPAN_ID, ctx);
  if (ctx.traceState !== '') w.string(SPAN_TRACE_STATE, ctx.traceState);
  if (parent !== null && (parent._spanPool !== null || parent.spanId !== '')) writeSpanId(w, SPAN_PARENT_SPAN_ID, parent);
}

/** Positions a `TagMemo` keeps: the first tags of a span (an http server span has five). */
const MEMO_SLOTS = 8;

/** Stands for a tag value that is never taken as equal to the next span's (an array: it can change in place). */
const NEVER_EQUAL = Object.freeze({}) as unknown as TagValue;

/**
 * Where the latest span's tags are in the open batch, by position among its tags. Consecutive spans of
 * one kind set the same keys in the same order, often to the same values (the method, the URL of a path
 * asked again, the peer's address, the status): a tag equal (`===`, key and value) to the one at its
 * position in the latest span is copied from that span's bytes (adjacent ones in one move) instead of
 * encoded again character by character. A `KeyValue`'s bytes depend on its key and value only, so the
 * payload is the same. A span's tags are written one after the other, so the latest span's are one
 * range: `base` and, per position, where its tag ends from there.
 */
export class TagMemo {
  /** The writer's `epoch` the positions belong to; any other epoch and the memo is empty. */
  epoch = -1;
  /** Positions of the latest span (in this epoch): those below it hold a key, a value and their bytes. */
  filled = 0;
  /** Where the latest span's first tag starts in the writer. */
  base = 0;
  readonly keys: string[] = Array.from({ length: MEMO_SLOTS }, () => '');
  readonly values: TagValue[] = Array.from({ length: MEMO_SLOTS }, (): TagValue => '');
  /** Where each tag's bytes end, from `base`. */
  readonly ends = new Int32Array(MEMO_SLOTS);
  /** Where a run being copied gets a changed integer written over it, and the integer (see `repeatRun`). */
  readonly patchAt = new Int32Array(MEMO_SLOTS);
  readonly patchValue = new Int32Array(MEMO_SLOTS);

  /** The bytes after `mark` moved by `by`. */
  moved(mark: number, by: number): void {
    if (this.base > mark) this.base += by;
  }
}

/**
 * A span's tags as `Span.attributes` fields, repeating the bytes of equal tags of the latest span (see
 * `TagMemo`), noting `span.kind` and `error` (see `writeFinishedSpan`). While every tag so far equals the
 * latest span's at its position (the usual case) the loop only compares: those tags' bytes are the start
 * of the latest span's, copied in one move at the end (or at the first tag that differs), and their ends
 * from `base` stay as they are.
 */
function writeTagsRepeating(w: ProtoWriter, tags: TagMap, memo: TagMemo): void {
  // Positions of another epoch are gone. The epoch is stored per span, not only when it changed: stored
  // at a batch's first span only, the store ran in the first batch at the process's first call alone,
  // before V8 gave this function its feedback (allocated lazily), so Maglev compiled it ~400 spans in
  // without feedback there and the second batch's first span sent it back to the interpreter (Node 24).
  const epoch = w.epoch;
  const filled = memo.epoch === epoch ? memo.filled : 0;
  memo.epoch = epoch;
  const keys = memo.keys;
  const values = memo.values;
  const ends = memo.ends;
  const patchAt = memo.patchAt;
  const patchValue = memo.patchValue;
  const base = memo.base;
  const newBase = w.length;
  // Every tag so far equal to the latest span's: their bytes, [base, base + oldEnd), are not copied yet.
  let intact = true;
  // Where the latest span's tag at `slot - 1` ended (from `base`): where its tag at `slot` starts.
  let oldEnd = 0;
  // Once not intact, a run of equal tags not yet copied: `runLength` bytes from `runFrom`.
  let runFrom = 0;
  let runLength = 0;
  // Integers of the pending copy to write over their copied bytes (patchAt / patchValue).
  let patches = 0;
  let slot = 0;
  for (const key in tags) {
    const value = tags[key]!;
    // The memo never holds `span.kind` or `error`: a key equal to the one at its position is neither.
    if (slot < filled && keys[slot] === key) {
      const previous = values[slot]!;
      let width = 0;
      // Compared by type, so that each comparison is compiled for one type, not a generic `===` call.
      // Two integers in [0, 2^31) of the same varint width are written alike but for the value's last
      // `width` bytes (see `asciiKeySmallIntValue`). The width of such an integer v, 7 bits a byte, is
      // (38 - clz32(v | 1)) / 7 rounded down: written out here, not a helper to compile (see above).
      if (typeof value === 'string' ? typeof previous === 'string' && previous === value : typeof value === 'number' ? typeof previous === 'number' && (previous === value || ((value | 0) === value && (previous | 0) === previous && value >= 0 && previous >= 0 && (width = ((38 - Math.clz32(value | 1)) / 7) | 0) === (((38 - Math.clz32(previous | 1)) / 7) | 0))) : previous === value) {
        const end = ends[slot]!;
        if (intact) {
          if (width !== 0) {
            // The same key and an integer of the same varint width (a peer port): the same bytes but the
            // value's last `width`, written over them once copied.
            patchAt[patches] = newBase + end - width;
            patchValue[patches++] = value as number;
            values[slot] = value;
          }
          oldEnd = end;
          slot++;
          continue;
        }
        const from = base + oldEnd;
        const length = end - oldEnd;
        oldEnd = end;
        if (runLength > 0 && runFrom + runLength !== from) {
          repeatRun(w, runFrom, runLength, memo, patches);
          runLength = 0;
          patches = 0;
        }
        if (runLength === 0) runFrom = from;
        // Where these bytes will be once the run is copied.
        const to = w.length + runLength;
        runLength += length;
        ends[slot] = to + length - newBase;
        if (width !== 0) {
          patchAt[patches] = to + length - width;
          patchValue[patches++] = value as number;
          values[slot] = value;
        }
        slot++;
        continue;
      }
    } else if (key === SPAN_KIND_TAG) {
      kindTag = value;
      continue;
    } else if (key === ERROR_TAG) {
      errorTag = value;
      continue;
    }
    // A tag written anew: first the equal ones before it.
    if (intact) {
      intact = false;
      runFrom = base;
      runLength = oldEnd;
    }
    if (runLength > 0) {
      repeatRun(w, runFrom, runLength, memo, patches);
      runLength = 0;
      patches = 0;
    }
    if (slot >= MEMO_SLOTS) {
      writeTag(w, SPAN_ATTRIBUTES, key, value);
      continue;
    }
    if (slot < filled) oldEnd = ends[slot]!;
    writeTag(w, SPAN_ATTRIBUTES, key, value);
    keys[slot] = key;
    // An array (a span of the OpenTelemetry API) can change in place: never taken as equal.
    values[slot] = typeof (value as unknown) === 'object' ? NEVER_EQUAL : value;
    ends[slot] = w.length - newBase;
    slot++;
  }
  if (intact) runLength = oldEnd;
  if (runLength > 0) repeatRun(w, intact ? base : runFrom, runLength, memo, patches);
  memo.filled = slot;
  memo.base = newBase;
}

/** Copies a run of repeated tags, then writes the run's changed integers over their old bytes. */
function repeatRun(w: ProtoWriter, from: number, length: number, memo: TagMemo, patches: number): void {
  w.repeat(from, length);
  for (let i = 0; i < patches; i++) w.varintAt(memo.patchAt[i]!, memo.patchValue[i]!);
}

// Ids generated here are copied from their random bytes; ids read from a carrier are hex text.
function writeTraceId(w: ProtoWriter, field: number, ctx: SpanContext): void {
  const pool = ctx._tracePool;
  if (pool !== null) w.bytesAt(field, pool.bytes, ctx._traceAt, 16);
  else w.hexBytes(field, ctx.traceId);
}

function writeSpanId(w: ProtoWriter, field: number, ctx: SpanContext): void {
  const pool = ctx._spanPool;
  if (pool !== null) w.bytesAt(field, pool.bytes, ctx._spanAt, 8);
  else w.hexBytes(field, ctx.spanId);
}
