// Decodes an OTLP `ExportTraceServiceRequest` (protobuf) into ViewSpans. Field numbers follow
// opentelemetry/proto/collector/trace/v1/trace_service.proto and the trace, common and resource
// protos it imports. Fields may come in any order (the resource after its spans, the scope after
// its spans), so nested messages are remembered as readers and decoded once their context is known.
import type { ViewAttribute, ViewEvent, ViewLink, ViewSpan, ViewValue } from './model.js';
import { MalformedProtobuf, nanosPartsToMs, ProtoReader, uint64String, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf-reader.js';
import { intern, internShort } from './intern.js';
import { hasErrorAttribute, kindName, serviceOf, STATUS_ERROR } from './view-span.js';

/** Spans read from one request; validation (ids) is the receiver's next step. */
export interface DecodedRequest {
  spans: ViewSpan[];
}

// AnyValue nests (arrays, kvlists); a hostile body could nest deep enough to blow the stack.
const MAX_VALUE_DEPTH = 32;
const TWO_POW_32 = 2 ** 32;
const NO_ATTRIBUTES = Object.freeze([]) as unknown as ViewAttribute[];
// Most spans have no events or links: one shared empty list each, rather than two arrays per span
// kept for as long as the store holds it. Frozen, so a stray push fails loudly instead of leaking.
const NO_EVENTS = Object.freeze([]) as unknown as ViewEvent[];
const NO_LINKS = Object.freeze([]) as unknown as ViewLink[];

/** Decodes a protobuf body; throws `MalformedProtobuf` when it is not a valid request. */
export function decodeOtlpProtobuf(buf: Buffer): DecodedRequest {
  const spans: ViewSpan[] = [];
  const r = new ProtoReader(buf);
  while (r.more()) {
    const key = r.key();
    if (key >>> 3 === 1) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      readResourceSpans(r.sub(), spans);
    } else r.skip(key & 7);
  }
  return { spans };
}

function readResourceSpans(r: ProtoReader, out: ViewSpan[]): void {
  let resource: ViewAttribute[] = NO_ATTRIBUTES;
  const scopeSpans: ProtoReader[] = [];
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        resource = readAttributesOf(r.sub(), 1);
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        scopeSpans.push(r.sub());
        break;
      default:
        r.skip(key & 7);
    }
  }
  const service = serviceOf(resource);
  for (const ss of scopeSpans) readScopeSpans(ss, resource, service, out);
}

function readScopeSpans(r: ProtoReader, resource: ViewAttribute[], service: string, out: ViewSpan[]): void {
  const scope = { name: '', version: '' };
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        readScope(r.sub(), scope);
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        out.push(readSpan(r.sub(), resource, service, scope));
        break;
      default:
        r.skip(key & 7);
    }
  }
  // Spans read before the scope field share the same object, so they see its values too.
}

export function readScope(r: ProtoReader, scope: { name: string; version: string }): void {
  while (r.more()) {
    const key = r.key();
    const field = key >>> 3;
    if (field === 1 || field === 2) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      if (field === 1) scope.name = r.string();
      else scope.version = r.string();
    } else r.skip(key & 7);
  }
}

function readSpan(r: ProtoReader, resource: ViewAttribute[], service: string, scope: { name: string; version: string }): ViewSpan {
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  let attributes: ViewAttribute[] = NO_ATTRIBUTES;
  let events: ViewEvent[] | null = null;
  let links: ViewLink[] | null = null;
  let statusCode = 0;
  let statusMessage = '';
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        traceId = r.hex();
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        spanId = r.hex();
        break;
      case 4:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        parentSpanId = r.hex();
        break;
      case 5:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        name = intern(r.string());
        break;
      case 6:
        r.expect(key, WIRE_VARINT);
        kind = r.varint32();
        break;
      case 7:
        r.expect(key, WIRE_FIXED64);
        [startLo, startHi] = r.fixed64Parts();
        break;
      case 8:
        r.expect(key, WIRE_FIXED64);
        [endLo, endHi] = r.fixed64Parts();
        break;
      case 9:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        if (attributes === NO_ATTRIBUTES) attributes = [];
        attributes.push(readKeyValue(r.sub(), 0));
        break;
      case 11:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        (events ??= []).push(readEvent(r.sub()));
        break;
      case 13:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        (links ??= []).push(readLink(r.sub()));
        break;
      case 15: {
        r.expect(key, WIRE_LENGTH_DELIMITED);
        const s = r.sub();
        while (s.more()) {
          const k = s.key();
          if (k >>> 3 === 2) {
            s.expect(k, WIRE_LENGTH_DELIMITED);
            statusMessage = s.string();
          } else if (k >>> 3 === 3) {
            s.expect(k, WIRE_VARINT);
            statusCode = s.varint32();
          } else s.skip(k & 7);
        }
        break;
      }
      case 16:
        r.expect(key, WIRE_FIXED32);
        r.fixed32();
        break;
      default:
        r.skip(key & 7);
    }
  }
  const durationNs = (endHi - startHi) * TWO_POW_32 + (endLo - startLo);
  return {
    traceId,
    spanId,
    parentSpanId,
    name,
    kind: kindName(kind),
    service,
    startMs: nanosPartsToMs(startLo, startHi),
    durationMs: durationNs > 0 ? durationNs / 1e6 : 0,
    startTimeUnixNano: uint64String(startLo, startHi),
    endTimeUnixNano: uint64String(endLo, endHi),
    error: statusCode === STATUS_ERROR || hasErrorAttribute(attributes),
    statusMessage,
    attributes,
    events: events ?? NO_EVENTS,
    links: links ?? NO_LINKS,
    resource,
    scope,
  };
}

function readEvent(r: ProtoReader): ViewEvent {
  let lo = 0;
  let hi = 0;
  let name = '';
  const attributes: ViewAttribute[] = [];
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_FIXED64);
        [lo, hi] = r.fixed64Parts();
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        name = r.string();
        break;
      case 3:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        attributes.push(readKeyValue(r.sub(), 0));
        break;
      default:
        r.skip(key & 7);
    }
  }
  return { timeMs: nanosPartsToMs(lo, hi), name, attributes };
}

function readLink(r: ProtoReader): ViewLink {
  let traceId = '';
  let spanId = '';
  const attributes: ViewAttribute[] = [];
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        traceId = r.hex();
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        spanId = r.hex();
        break;
      case 4:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        attributes.push(readKeyValue(r.sub(), 0));
        break;
      default:
        r.skip(key & 7);
    }
  }
  return { traceId, spanId, attributes };
}

/** The repeated KeyValue `field` of a message (Resource.attributes is field 1). */
export function readAttributesOf(r: ProtoReader, field: number): ViewAttribute[] {
  const out: ViewAttribute[] = [];
  while (r.more()) {
    const key = r.key();
    if (key >>> 3 === field) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      out.push(readKeyValue(r.sub(), 0));
    } else r.skip(key & 7);
  }
  return out;
}

export function readKeyValue(r: ProtoReader, depth: number): ViewAttribute {
  let k = '';
  let value: ViewValue = null;
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        k = intern(r.string());
        break;
      case 2:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        value = readAnyValue(r.sub(), depth);
        break;
      default:
        r.skip(key & 7);
    }
  }
  return { key: k, value };
}

export function readAnyValue(r: ProtoReader, depth: number): ViewValue {
  if (depth > MAX_VALUE_DEPTH) throw new MalformedProtobuf(`attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  let value: ViewValue = null;
  // A oneof: the last field on the wire wins, as protobuf specifies.
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1: {
        r.expect(key, WIRE_LENGTH_DELIMITED);
        value = internShort(r.string());
        break;
      }
      case 2:
        r.expect(key, WIRE_VARINT);
        value = r.bool();
        break;
      case 3:
        r.expect(key, WIRE_VARINT);
        value = r.int64();
        break;
      case 4:
        r.expect(key, WIRE_FIXED64);
        value = r.double();
        break;
      case 5: {
        r.expect(key, WIRE_LENGTH_DELIMITED);
        const list = r.sub();
        const items: ViewValue[] = [];
        while (list.more()) {
          const k = list.key();
          if (k >>> 3 === 1) {
            list.expect(k, WIRE_LENGTH_DELIMITED);
            items.push(readAnyValue(list.sub(), depth + 1));
          } else list.skip(k & 7);
        }
        value = items;
        break;
      }
      case 6: {
        r.expect(key, WIRE_LENGTH_DELIMITED);
        const list = r.sub();
        const obj: { [key: string]: ViewValue } = Object.create(null);
        while (list.more()) {
          const k = list.key();
          if (k >>> 3 === 1) {
            list.expect(k, WIRE_LENGTH_DELIMITED);
            const kv = readKeyValue(list.sub(), depth + 1);
            obj[kv.key] = kv.value;
          } else list.skip(k & 7);
        }
        value = obj;
        break;
      }
      case 7:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        value = r.base64();
        break;
      default:
        r.skip(key & 7);
    }
  }
  return value;
}
