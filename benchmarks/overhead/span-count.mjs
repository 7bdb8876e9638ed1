// Counts the spans in what an agent sends, without depending on any agent's own decoder:
// OTLP/HTTP (protobuf or JSON) and Datadog's /v0.4/traces (msgpack).
import { decode } from '@msgpack/msgpack';

/**
 * Number of spans in an OTLP ExportTraceServiceRequest encoded as protobuf.
 * Walks only the three nested fields that lead to spans:
 * request.resource_spans(1) → scope_spans(2) → spans(2); everything else is skipped by wire type.
 */
export function countOtlpProtobufSpans(buf) {
  let spans = 0;
  forEachField(buf, 0, buf.length, 1, (rsStart, rsEnd) => {
    forEachField(buf, rsStart, rsEnd, 2, (ssStart, ssEnd) => {
      forEachField(buf, ssStart, ssEnd, 2, () => { spans++; });
    });
  });
  return spans;
}

/** Number of spans in an OTLP JSON body (resourceSpans[].scopeSpans[].spans[]). */
export function countOtlpJsonSpans(text) {
  const body = JSON.parse(text);
  let spans = 0;
  for (const rs of body.resourceSpans ?? body.resource_spans ?? []) {
    for (const ss of rs.scopeSpans ?? rs.scope_spans ?? []) spans += (ss.spans ?? []).length;
  }
  return spans;
}

/** Number of spans in a Datadog v0.4 payload: an array of traces, each an array of spans. */
export function countDatadogSpans(buf) {
  const traces = decode(buf);
  if (!Array.isArray(traces)) throw new Error('a v0.4 payload is an array of traces');
  let spans = 0;
  for (const trace of traces) spans += Array.isArray(trace) ? trace.length : 0;
  return spans;
}

function forEachField(buf, start, end, wanted, onField) {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === 0) pos = readVarint(buf, pos)[1];
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const [len, afterLen] = readVarint(buf, pos);
      if (afterLen + len > end) throw new Error('truncated protobuf field');
      if (field === wanted) onField(afterLen, afterLen + len);
      pos = afterLen + len;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
  if (pos !== end) throw new Error('truncated protobuf message');
}

function readVarint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}
