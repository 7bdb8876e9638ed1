import { ProtoWriter } from './protobuf-writer.js';
import type { MappedLogRecord } from './log-model.js';
import type { Attribute } from './span-model.js';
import { writeAnyValue, writeKeyValue } from './otlp-common.js';
import { SDK_VERSION } from './resource.js';

// Field numbers from opentelemetry/proto/logs/v1/logs.proto, common/v1/common.proto,
// resource/v1/resource.proto and collector/logs/v1/logs_service.proto.
const REQUEST_RESOURCE_LOGS = 1;
const RESOURCE_LOGS_RESOURCE = 1;
const RESOURCE_LOGS_SCOPE_LOGS = 2;
const RESOURCE_ATTRIBUTES = 1;
const SCOPE_LOGS_SCOPE = 1;
const SCOPE_LOGS_LOG_RECORDS = 2;
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;
const LOG_TIME = 1;
const LOG_SEVERITY_NUMBER = 2;
const LOG_SEVERITY_TEXT = 3;
const LOG_BODY = 5;
const LOG_ATTRIBUTES = 6;
const LOG_FLAGS = 8;
const LOG_TRACE_ID = 9;
const LOG_SPAN_ID = 10;
const LOG_OBSERVED_TIME = 11;

/**
 * Encodes log records as an `ExportLogsServiceRequest` (OTLP/HTTP with `application/x-protobuf`):
 * one resource, one scope per logging library. The writer is reused across calls.
 */
export class OtlpLogsProtobufEncoder {
  private readonly writer = new ProtoWriter();

  encode(records: readonly MappedLogRecord[], resource: readonly Attribute[]): Buffer {
    const w = this.writer;
    w.reset();
    const rl = w.begin(REQUEST_RESOURCE_LOGS);
    const res = w.begin(RESOURCE_LOGS_RESOURCE);
    for (const a of resource) writeKeyValue(w, RESOURCE_ATTRIBUTES, a);
    w.end(res);
    for (const [scope, group] of byScope(records)) {
      const sl = w.begin(RESOURCE_LOGS_SCOPE_LOGS);
      const sc = w.begin(SCOPE_LOGS_SCOPE);
      w.string(SCOPE_NAME, scope);
      w.string(SCOPE_VERSION, SDK_VERSION);
      w.end(sc);
      for (const r of group) writeRecord(w, r);
      w.end(sl);
    }
    w.end(rl);
    return w.finish();
  }
}

/** Records grouped by scope, in order of first appearance. */
export function byScope(records: readonly MappedLogRecord[]): Map<string, MappedLogRecord[]> {
  const groups = new Map<string, MappedLogRecord[]>();
  for (const r of records) {
    let g = groups.get(r.scope);
    if (g === undefined) groups.set(r.scope, (g = []));
    g.push(r);
  }
  return groups;
}

function writeRecord(w: ProtoWriter, r: MappedLogRecord): void {
  const m = w.begin(SCOPE_LOGS_LOG_RECORDS);
  w.nanosFromMs(LOG_TIME, r.timeMs);
  if (r.severityNumber !== 0) w.uint32(LOG_SEVERITY_NUMBER, r.severityNumber);
  if (r.severityText !== '') w.string(LOG_SEVERITY_TEXT, r.severityText);
  writeAnyValue(w, LOG_BODY, r.body);
  for (const a of r.attributes) writeKeyValue(w, LOG_ATTRIBUTES, a);
  if (r.traceId !== '') {
    w.fixed32(LOG_FLAGS, r.traceFlags);
    w.hexBytes(LOG_TRACE_ID, r.traceId);
    w.hexBytes(LOG_SPAN_ID, r.spanId);
  }
  w.nanosFromMs(LOG_OBSERVED_TIME, r.observedMs);
  w.end(m);
}
