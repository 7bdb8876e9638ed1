import type { Span } from '../api/span.js';
import { guard } from '../util/log.js';
import type { EncodedBatch, SpanBatchEncoder } from './span-processor.js';
import { ProtoWriter, varintSize } from './protobuf-writer.js';
import { mapSpan, type Attribute, type MappedSpan } from './span-model.js';
import { writeKeyValue } from './otlp-common.js';
import { TagMemo, writeFinishedSpan, writeSpan } from './otlp-span-protobuf.js';
import { SDK_NAME, SDK_VERSION } from './resource.js';

// Field numbers from opentelemetry/proto/trace/v1/trace.proto, resource/v1/resource.proto and
// collector/trace/v1/trace_service.proto (a span's own: otlp-span-protobuf.ts).
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS_RESOURCE = 1;
const RESOURCE_SPANS_SCOPE_SPANS = 2;
const RESOURCE_ATTRIBUTES = 1;
const SCOPE_SPANS_SCOPE = 1;
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;

/**
 * Encodes spans as an `ExportTraceServiceRequest` (OTLP/HTTP with `application/x-protobuf`).
 * One writer is reused across calls, so steady-state encoding allocates only the result.
 */
export class OtlpProtobufEncoder {
  private readonly writer = new ProtoWriter();

  encode(spans: readonly MappedSpan[], resource: readonly Attribute[]): Buffer {
    const w = this.writer;
    w.reset();
    const rs = w.begin(REQUEST_RESOURCE_SPANS);
    const res = w.begin(RESOURCE_SPANS_RESOURCE);
    for (const a of resource) writeKeyValue(w, RESOURCE_ATTRIBUTES, a);
    w.end(res);
    const groups = groupByScope(spans);
    if (groups === null) writeScopeSpans(w, SDK_NAME, SDK_VERSION, spans);
    else for (const g of groups.values()) writeScopeSpans(w, g.name || SDK_NAME, g.name === '' ? SDK_VERSION : g.version, g.spans);
    w.end(rs);
    return w.finish();
  }
}

/** Spans of one instrumentation scope. */
export interface ScopeGroup {
  name: string;
  version: string;
  spans: MappedSpan[];
}

/**
 * Groups spans by instrumentation scope, in order of first appearance; null when every span is the
 * agent's own (the common case: no map, one scope).
 */
export function groupByScope(spans: readonly MappedSpan[]): Map<string, ScopeGroup> | null {
  let i = 0;
  while (i < spans.length && spans[i]!.scopeName === '') i++;
  if (i === spans.length) return null;
  const groups = new Map<string, ScopeGroup>();
  for (const s of spans) {
    const key = `${s.scopeName}\0${s.scopeVersion}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { name: s.scopeName, version: s.scopeVersion, spans: [] }));
    g.spans.push(s);
  }
  return groups;
}

function writeScopeSpans(w: ProtoWriter, name: string, version: string, spans: readonly MappedSpan[]): void {
  const ss = w.begin(RESOURCE_SPANS_SCOPE_SPANS);
  const scope = w.begin(SCOPE_SPANS_SCOPE);
  w.string(SCOPE_NAME, name);
  if (version !== '') w.string(SCOPE_VERSION, version);
  w.end(scope);
  for (const span of spans) writeSpan(w, span);
  w.end(ss);
}

/** A `ScopeSpans.scope` field (the `InstrumentationScope`). */
function encodeScopeField(name: string, version: string): Buffer {
  const w = new ProtoWriter(256);
  const scope = w.begin(SCOPE_SPANS_SCOPE);
  w.string(SCOPE_NAME, name);
  if (version !== '') w.string(SCOPE_VERSION, version);
  w.end(scope);
  return w.finish();
}

/**
 * The fixed part of every request around the spans: the resource and the scope, as the fields of
 * `ResourceSpans` and `ScopeSpans` that precede the spans. Encoded once per exporter.
 */
export function encodeEnvelope(resource: readonly Attribute[]): { resourceField: Buffer; scopeField: Buffer } {
  const w = new ProtoWriter(1024);
  const res = w.begin(RESOURCE_SPANS_RESOURCE);
  for (const a of resource) writeKeyValue(w, RESOURCE_ATTRIBUTES, a);
  w.end(res);
  const resourceField = w.finish();
  w.reset();
  const scope = w.begin(SCOPE_SPANS_SCOPE);
  w.string(SCOPE_NAME, SDK_NAME);
  w.string(SCOPE_VERSION, SDK_VERSION);
  w.end(scope);
  return { resourceField, scopeField: w.finish() };
}

/**
 * An `ExportTraceServiceRequest` from the envelope and span messages already encoded (each a
 * `ScopeSpans.spans` field): the same bytes `OtlpProtobufEncoder.encode` writes for those spans.
 */
export function wrapEncodedSpans(envelope: { resourceField: Buffer; scopeField: Buffer }, spans: Uint8Array, others?: readonly ScopedSpans[]): Buffer {
  if (others !== undefined && others.length > 0) return wrapScopes(envelope.resourceField, spans.length === 0 ? others : [{ scopeField: envelope.scopeField, spans }, ...others]);
  const scopeSpansLen = envelope.scopeField.length + spans.length;
  const resourceSpansLen = envelope.resourceField.length + 1 + varintSize(scopeSpansLen) + scopeSpansLen;
  const out = Buffer.allocUnsafe(1 + varintSize(resourceSpansLen) + resourceSpansLen);
  let at = 0;
  out[at++] = (REQUEST_RESOURCE_SPANS << 3) | 2;
  at = writeVarint(out, at, resourceSpansLen);
  at += envelope.resourceField.copy(out, at);
  out[at++] = (RESOURCE_SPANS_SCOPE_SPANS << 3) | 2;
  at = writeVarint(out, at, scopeSpansLen);
  at += envelope.scopeField.copy(out, at);
  out.set(spans, at);
  return out;
}

/** Span messages of one instrumentation scope, with its encoded `scope` field. */
export interface ScopedSpans {
  scopeField: Buffer;
  spans: Uint8Array;
}

/** An `ExportTraceServiceRequest` with one `ScopeSpans` per scope (spans started through the OpenTelemetry API). */
function wrapScopes(resourceField: Buffer, scopes: readonly ScopedSpans[]): Buffer {
  let resourceSpansLen = resourceField.length;
  for (const s of scopes) {
    const len = s.scopeField.length + s.spans.length;
    resourceSpansLen += 1 + varintSize(len) + len;
  }
  const out = Buffer.allocUnsafe(1 + varintSize(resourceSpansLen) + resourceSpansLen);
  let at = 0;
  out[at++] = (REQUEST_RESOURCE_SPANS << 3) | 2;
  at = writeVarint(out, at, resourceSpansLen);
  at += resourceField.copy(out, at);
  for (const s of scopes) {
    out[at++] = (RESOURCE_SPANS_SCOPE_SPANS << 3) | 2;
    at = writeVarint(out, at, s.scopeField.length + s.spans.length);
    at += s.scopeField.copy(out, at);
    out.set(s.spans, at);
    at += s.spans.length;
  }
  return out;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value > 127) {
    out[at++] = (value & 127) | 128;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

/**
 * Bytes kept free before the spans of a batch: room for the widest request header (the
 * `resource_spans` and `scope_spans` tags with 5-byte lengths, the resource and the scope) and a
 * gRPC frame prefix in front of it. The header is written there at `seal`, so the buffer the spans
 * were encoded into is the request body as it is.
 */
function headroomFor(envelope: { resourceField: Buffer; scopeField: Buffer }): number {
  return GRPC_PREFIX + 1 + 5 + envelope.resourceField.length + 1 + 5 + envelope.scopeField.length;
}

/** A gRPC message's prefix: compressed flag and 4-byte length (see grpc-wire.ts). */
const GRPC_PREFIX = 5;
/** A released body buffer larger than this is left to the GC rather than kept for the next batch. */
const MAX_SPARE_BYTES = 4 * 1024 * 1024;
const MIN_BUFFER_BYTES = 16 * 1024;
/**
 * The first batch's buffer: a batch of 512 http server spans (~94 KB) fits without growing. The writer
 * grew in it otherwise (16 → 128 KB), the last time ~350 spans in, about when Maglev compiles the encoder
 * on Node 24 (~400), whose check before a write then met a call it had never made and sent the function
 * back to the interpreter, once per process (docs/performance.md, round sixteen). Later batches get a
 * buffer of the size the previous one needed; pages are touched only as they are written.
 */
const FIRST_BUFFER_BYTES = 128 * 1024;

/**
 * The open batch of an OTLP/protobuf pipeline: span messages appended to a buffer as spans finish,
 * after room left for the request header. `seal` writes the resource and scope into that room and
 * hands the buffer out as the request body — byte for byte what `OtlpProtobufEncoder.encode` makes of
 * the same spans, without copying the spans; the writer goes on in a spare buffer. The transport gives
 * a body's buffer back (`release`) once it no longer reads it, so in steady state two buffers take
 * turns instead of a new one of a few hundred kilobytes (and its page faults) per batch.
 */
export class OtlpBatchEncoder implements SpanBatchEncoder {
  openCount = 0;
  private readonly writer: ProtoWriter;
  private readonly memo = new TagMemo();
  private readonly head: number;
  /** A body buffer given back by the transport, for the next batch; one is enough (one send at a time). */
  private spare: Buffer | null = null;
  private scoped: Map<string, { scopeField: Buffer; writer: ProtoWriter }> | null = null;

  /** `framingRoom`: more room before each batch, for a transport's framing (an HTTP request head). */
  constructor(
    private readonly envelope: { resourceField: Buffer; scopeField: Buffer },
    private readonly exportBaggage: boolean,
    framingRoom = 0,
  ) {
    this.head = headroomFor(envelope) + framingRoom;
    this.writer = new ProtoWriter(Math.max(this.head * 2 + MIN_BUFFER_BYTES, FIRST_BUFFER_BYTES));
    this.writer.reset(this.head);
  }

  append(span: Span): void {
    // A span started through the OpenTelemetry API goes under its own instrumentation scope. (Its field,
    // not the `_extras` getter: see `Span`.)
    const rare = span._rare;
    if (rare !== null && rare.extras !== null) {
      this.appendScoped(span);
      this.openCount++;
      return;
    }
    const mark = this.writer.length;
    try {
      writeFinishedSpan(this.writer, span, this.exportBaggage, this.memo);
    } catch (err) {
      this.writer.truncate(mark);
      throw err;
    }
    this.openCount++;
  }

  seal(): EncodedBatch {
    const count = this.openCount;
    this.openCount = 0;
    const scoped = this.scoped;
    if (scoped !== null) {
      // Several scopes: rare (the OpenTelemetry API), so they are put together in a new buffer.
      this.scoped = null;
      const others = [...scoped.values()].map((g) => ({ scopeField: g.scopeField, spans: g.writer.view() }));
      const bytes = guard('export encoding', () => wrapEncodedSpans(this.envelope, this.writer.view(this.head), others), Buffer.alloc(0));
      this.writer.reset(this.head);
      return { count, bytes };
    }
    const w = this.writer;
    const end = w.length;
    const { resourceField, scopeField } = this.envelope;
    const scopeSpansLen = scopeField.length + (end - this.head);
    const resourceSpansLen = resourceField.length + 1 + varintSize(scopeSpansLen) + scopeSpansLen;
    const start = this.head - (1 + varintSize(resourceSpansLen) + resourceField.length + 1 + varintSize(scopeSpansLen) + scopeField.length);
    let next = this.spare;
    this.spare = null;
    if (next === null || next.length < end) next = Buffer.allocUnsafe(Math.max(MIN_BUFFER_BYTES, this.head * 2, bufferSizeFor(end)));
    const buf = w.detach(next);
    w.reset(this.head);
    let at = start;
    buf[at++] = (REQUEST_RESOURCE_SPANS << 3) | 2;
    at = writeVarint(buf, at, resourceSpansLen);
    // `Uint8Array#set` (V8's own), not `Buffer#copy` (three of Node's functions compiled at the first seal,
    // which in a short process is its exit's).
    buf.set(resourceField, at);
    at += resourceField.length;
    buf[at++] = (RESOURCE_SPANS_SCOPE_SPANS << 3) | 2;
    at = writeVarint(buf, at, scopeSpansLen);
    buf.set(scopeField, at);
    let released = false;
    return {
      count,
      bytes: buf.subarray(start, end),
      headroom: start,
      release: () => {
        if (released) return;
        released = true;
        if (this.spare === null && buf.length <= MAX_SPARE_BYTES) this.spare = buf;
      },
    };
  }

  private appendScoped(span: Span): void {
    const extras = span._extras!;
    const key = `${extras.scopeName}\0${extras.scopeVersion}`;
    const scoped = (this.scoped ??= new Map());
    let g = scoped.get(key);
    if (g === undefined) scoped.set(key, (g = { scopeField: encodeScopeField(extras.scopeName, extras.scopeVersion), writer: new ProtoWriter(4096) }));
    const mark = g.writer.length;
    try {
      writeSpan(g.writer, mapSpan(span, { exportBaggage: this.exportBaggage }));
    } catch (err) {
      g.writer.truncate(mark);
      throw err;
    }
  }
}

/** The next power of two at or above `bytes`: the writer would have grown to that for this batch. */
function bufferSizeFor(bytes: number): number {
  let size = MIN_BUFFER_BYTES;
  while (size < bytes) size *= 2;
  return size;
}
