// Decodes an OTLP `ExportLogsServiceRequest` (protobuf or JSON) into ViewLogRecords. Field numbers
// follow opentelemetry/proto/collector/logs/v1/logs_service.proto and logs/v1/logs.proto; the JSON
// side accepts what the trace decoder accepts (camelCase or snake_case, ids as hex, 64-bit as strings).
import type { ViewAttribute, ViewLogRecord, ViewValue } from './model.js';
import { attributesOf, anyValueOf, field, idOf, listOf, nanosOf, objectOf, parseJsonRequest, resourceOf, stringOf } from './otlp-json-decoder.js';
import { readAnyValue, readAttributesOf, readKeyValue, readScope } from './otlp-protobuf-decoder.js';
import { nanosPartsToMs, ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf-reader.js';
import { nanosToMs, serviceOf, valueText } from './view-span.js';

/** Decodes a protobuf body; throws `MalformedProtobuf` when it is not a valid request. */
export function decodeOtlpLogsProtobuf(buf: Buffer): ViewLogRecord[] {
  const out: ViewLogRecord[] = [];
  const r = new ProtoReader(buf);
  while (r.more()) {
    const key = r.key();
    if (key >>> 3 === 1) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      readResourceLogs(r.sub(), out);
    } else r.skip(key & 7);
  }
  return out;
}

function readResourceLogs(r: ProtoReader, out: ViewLogRecord[]): void {
  let resource: ViewAttribute[] = [];
  const scopeLogs: ProtoReader[] = [];
  while (r.more()) {
    const key = r.key();
    const f = key >>> 3;
    if (f === 1) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      resource = readAttributesOf(r.sub(), 1);
    } else if (f === 2) {
      r.expect(key, WIRE_LENGTH_DELIMITED);
      scopeLogs.push(r.sub());
    } else r.skip(key & 7);
  }
  const service = serviceOf(resource);
  for (const sl of scopeLogs) {
    const scope = { name: '', version: '' };
    const records: ProtoReader[] = [];
    while (sl.more()) {
      const key = sl.key();
      const f = key >>> 3;
      if (f === 1) {
        sl.expect(key, WIRE_LENGTH_DELIMITED);
        readScope(sl.sub(), scope);
      } else if (f === 2) {
        sl.expect(key, WIRE_LENGTH_DELIMITED);
        records.push(sl.sub());
      } else sl.skip(key & 7);
    }
    for (const rec of records) out.push(readRecord(rec, service, scope.name));
  }
}

function readRecord(r: ProtoReader, service: string, scope: string): ViewLogRecord {
  let timeMs = 0;
  let observedMs = 0;
  let severityNumber = 0;
  let severityText = '';
  let body: ViewValue = '';
  const attributes: ViewAttribute[] = [];
  let traceId = '';
  let spanId = '';
  while (r.more()) {
    const key = r.key();
    switch (key >>> 3) {
      case 1: {
        r.expect(key, WIRE_FIXED64);
        const [lo, hi] = r.fixed64Parts();
        timeMs = nanosPartsToMs(lo, hi);
        break;
      }
      case 11: {
        r.expect(key, WIRE_FIXED64);
        const [lo, hi] = r.fixed64Parts();
        observedMs = nanosPartsToMs(lo, hi);
        break;
      }
      case 2:
        r.expect(key, WIRE_VARINT);
        severityNumber = r.varint32();
        break;
      case 3:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        severityText = r.string();
        break;
      case 5:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        body = readAnyValue(r.sub(), 0);
        break;
      case 6:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        attributes.push(readKeyValue(r.sub(), 0));
        break;
      case 9:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        traceId = r.hex();
        break;
      case 10:
        r.expect(key, WIRE_LENGTH_DELIMITED);
        spanId = r.hex();
        break;
      case 8:
        r.expect(key, WIRE_FIXED32);
        r.skip(WIRE_FIXED32);
        break;
      default:
        r.skip(key & 7);
    }
  }
  return { traceId, spanId, timeMs: timeMs || observedMs, severityNumber, severityText, body: bodyText(body), attributes, service, scope };
}

/** Decodes a JSON body (already gunzipped); throws `MalformedJson` when it is not a request. */
export function decodeOtlpLogsJson(body: Buffer): ViewLogRecord[] {
  const out: ViewLogRecord[] = [];
  for (const rl of listOf(parseJsonRequest(body), 'resourceLogs', 'resource_logs')) {
    const resourceLogs = objectOf(rl, 'resourceLogs[]');
    const { service } = resourceOf(resourceLogs);
    for (const sl of listOf(resourceLogs, 'scopeLogs', 'scope_logs')) {
      const scopeLogs = objectOf(sl, 'scopeLogs[]');
      const scopeObj = field(scopeLogs, 'scope', 'scope');
      const scope = scopeObj === undefined || scopeObj === null ? '' : stringOf(field(objectOf(scopeObj, 'scope'), 'name', 'name'));
      for (const raw of listOf(scopeLogs, 'logRecords', 'log_records')) {
        const rec = objectOf(raw, 'logRecords[]');
        const time = nanosToMs(nanosOf(field(rec, 'timeUnixNano', 'time_unix_nano')));
        const observed = nanosToMs(nanosOf(field(rec, 'observedTimeUnixNano', 'observed_time_unix_nano')));
        const severity = Number(field(rec, 'severityNumber', 'severity_number'));
        const bodyValue = field(rec, 'body', 'body');
        out.push({
          traceId: idOf(field(rec, 'traceId', 'trace_id')),
          spanId: idOf(field(rec, 'spanId', 'span_id')),
          timeMs: time || observed,
          severityNumber: Number.isInteger(severity) ? severity : 0,
          severityText: stringOf(field(rec, 'severityText', 'severity_text')),
          body: bodyText(bodyValue === undefined || bodyValue === null ? '' : anyValueOf(bodyValue, 0)),
          attributes: attributesOf(rec, 'attributes', 'attributes'),
          service,
          scope,
        });
      }
    }
  }
  return out;
}

function bodyText(v: ViewValue): string {
  return typeof v === 'string' ? v : valueText(v);
}
