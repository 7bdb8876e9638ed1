import type { MappedLogRecord } from './log-model.js';
import { byScope } from './otlp-logs-protobuf.js';
import type { Attribute } from './span-model.js';
import { jsonKeyValue } from './otlp-common.js';
import { SDK_VERSION } from './resource.js';
import { msToNanos } from './time.js';

/**
 * Encodes log records as OTLP/JSON (`application/json`): ids as hex, enums as numbers, 64-bit
 * integers as decimal strings, as the OTLP/HTTP specification requires.
 */
export function encodeOtlpLogsJson(records: readonly MappedLogRecord[], resource: readonly Attribute[]): Buffer {
  const scopeLogs = [...byScope(records)].map(([scope, group]) => ({ scope: { name: scope, version: SDK_VERSION }, logRecords: group.map(jsonRecord) }));
  const body = { resourceLogs: [{ resource: { attributes: resource.map(jsonKeyValue) }, scopeLogs }] };
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function jsonRecord(r: MappedLogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timeUnixNano: msToNanos(r.timeMs).toString(),
    observedTimeUnixNano: msToNanos(r.observedMs).toString(),
    body: { stringValue: r.body },
    attributes: r.attributes.map(jsonKeyValue),
  };
  if (r.severityNumber !== 0) out.severityNumber = r.severityNumber;
  if (r.severityText !== '') out.severityText = r.severityText;
  if (r.traceId !== '') {
    out.traceId = r.traceId;
    out.spanId = r.spanId;
    out.flags = r.traceFlags;
  }
  return out;
}
