import t from 'tap';
import { LogStore } from '../../../src/viewer/log-store.js';
import type { ViewLogRecord } from '../../../src/viewer/model.js';
import { decodeOtlpLogsJson, decodeOtlpLogsProtobuf } from '../../../src/viewer/otlp-logs-decoder.js';
import { receiveLogs } from '../../../src/viewer/receiver.js';
import { TraceStore } from '../../../src/viewer/store.js';
import { id } from './official-otlp.js';

// The viewer's side of OTLP logs: requests encoded by the official generated code decode field for
// field, records are kept by trace in time order within a bound, and a bad body is a 400.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const LogsRequest = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

const TRACE = 'ab'.repeat(16);
const SPAN = 'cd'.repeat(8);

function officialRequest(): Buffer {
  return Buffer.from(LogsRequest.encode(LogsRequest.fromObject({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
      scopeLogs: [{
        scope: { name: 'pino', version: '1' },
        logRecords: [
          { timeUnixNano: '1700000000200000000', severityNumber: 13, severityText: 'warn', body: { stringValue: 'second' }, traceId: id(TRACE), spanId: id(SPAN), flags: 1,
            attributes: [{ key: 'n', value: { intValue: '2' } }, { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }] } } }] },
          { timeUnixNano: '1700000000100000000', severityNumber: 9, severityText: 'info', body: { stringValue: 'first' }, traceId: id(TRACE), spanId: id(SPAN) },
          { observedTimeUnixNano: '1700000000300000000', severityNumber: 9, body: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
        ],
      }],
    }],
  })).finish());
}

t.test('official protobuf log requests decode field for field', async (t) => {
  const records = decodeOtlpLogsProtobuf(officialRequest());
  t.equal(records.length, 3);
  const [second, first, untraced] = records;
  t.same(second, {
    traceId: TRACE, spanId: SPAN, timeMs: 1_700_000_000_200, severityNumber: 13, severityText: 'warn', body: 'second',
    attributes: [{ key: 'n', value: 2 }, { key: 'list', value: ['a'] }], service: 'shop', scope: 'pino',
  });
  t.equal(first?.body, 'first');
  t.equal(untraced?.traceId, '', 'a record without a trace');
  t.equal(untraced?.timeMs, 1_700_000_000_300, 'no time: the observed time');
  t.equal(untraced?.body, '{"k":true}', 'a structured body as JSON text');
});

t.test('OTLP/JSON log requests decode the same', async (t) => {
  const body = Buffer.from(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeLogs: [{ scope: { name: 'winston' },
    logRecords: [{ timeUnixNano: '1700000000100000000', severityNumber: 17, severityText: 'error', body: { stringValue: 'x' }, traceId: TRACE.toUpperCase(), spanId: SPAN, attributes: [{ key: 'a', value: { stringValue: 'b' } }] }] }] }] }));
  const [r] = decodeOtlpLogsJson(body);
  t.same(r, { traceId: TRACE, spanId: SPAN, timeMs: 1_700_000_000_100, severityNumber: 17, severityText: 'error', body: 'x', attributes: [{ key: 'a', value: 'b' }], service: 'shop', scope: 'winston' });
});

t.test('the receiver keeps traced records in time order and answers a bad body with 400', async (t) => {
  const logs = new LogStore();
  const options = { store: new TraceStore(), logs };
  const ok = receiveLogs(officialRequest(), 'protobuf', options);
  t.equal(ok.status, 200);
  t.equal(ok.accepted, 2, 'the two traced records are kept');
  t.same(logs.forTrace(TRACE).map((r) => r.body), ['first', 'second'], 'in time order');
  t.equal(logs.stats().untraced, 1, 'the untraced one is counted, not kept');
  const bad = receiveLogs(Buffer.from([0x0a, 0xff]), 'protobuf', options);
  t.equal(bad.status, 400);
  t.match(bad.message, 'ExportLogsServiceRequest');
});

t.test('the store is bounded: the oldest trace goes first', async (t) => {
  const logs = new LogStore(3);
  const rec = (traceId: string, timeMs: number): ViewLogRecord => ({ traceId, spanId: SPAN, timeMs, severityNumber: 9, severityText: '', body: String(timeMs), attributes: [], service: 's', scope: 'pino' });
  logs.add([rec('1'.repeat(32), 1), rec('1'.repeat(32), 2), rec('2'.repeat(32), 3)]);
  logs.add([rec('3'.repeat(32), 4)]);
  t.same(logs.forTrace('1'.repeat(32)), [], 'the oldest trace was evicted');
  t.equal(logs.forTrace('3'.repeat(32)).length, 1);
  t.same(logs.stats(), { records: 2, untraced: 0, evicted: 2 });
});
