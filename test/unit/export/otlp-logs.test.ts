import t from 'tap';
import * as net from 'node:net';
import type { LogRecordData } from '../../../src/agent/instrumentation.js';
import { mapLogRecord } from '../../../src/export/log-model.js';
import { encodeOtlpLogsJson } from '../../../src/export/otlp-logs-json.js';
import { OtlpLogsProtobufEncoder } from '../../../src/export/otlp-logs-protobuf.js';
import { logsUrlFor, OtlpLogExporter } from '../../../src/export/otlp-logs.js';
import { BatchProcessor } from '../../../src/export/batch-processor.js';
import { buildResource, SDK_VERSION } from '../../../src/export/resource.js';
import { Collector } from '../../helpers/collector.js';

// OTLP logs: the official generated code (from opentelemetry-proto, shipped by
// @opentelemetry/otlp-transformer) decides what our bytes mean.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Request = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

function decode(buf: Buffer): any {
  return Request.toObject(Request.decode(buf), { longs: String, enums: Number, bytes: String, defaults: false });
}
const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

function records(): LogRecordData[] {
  return [
    {
      timeMs: 1_700_000_000_123.5,
      severityNumber: 13,
      severityText: 'warn',
      body: 'disk <almost> full',
      attributes: { req_id: 'r1', count: 3, ratio: 0.5, ok: true, nested: { a: [1, 2] }, gone: undefined, fn: () => 1, nothing: null },
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      scope: 'pino',
    },
    { timeMs: 1_700_000_000_200, severityNumber: 9, severityText: 'info', body: 'outside', attributes: {}, traceId: '', spanId: '', traceFlags: 0, scope: 'winston' },
  ];
}

t.test('protobuf log records decode with the official definitions, field for field', async (t) => {
  const resource = buildResource({ 'service.name': 'shop' });
  const mapped = records().map((r) => mapLogRecord(r, 1_700_000_001_000));
  const msg = decode(new OtlpLogsProtobufEncoder().encode(mapped, resource));
  t.equal(msg.resourceLogs.length, 1, 'one resource');
  const rl = msg.resourceLogs[0];
  t.ok(rl.resource.attributes.some((kv: any) => kv.key === 'service.name' && kv.value.stringValue === 'shop'), 'the trace exporter resource');
  t.same(rl.scopeLogs.map((s: any) => s.scope), [{ name: 'pino', version: SDK_VERSION }, { name: 'winston', version: SDK_VERSION }], 'one scope per logging library');
  const [inTrace] = rl.scopeLogs[0].logRecords;
  t.equal(inTrace.timeUnixNano, '1700000000123500000', 'time in nanoseconds');
  t.equal(inTrace.observedTimeUnixNano, '1700000001000000000', 'observed time');
  t.equal(inTrace.severityNumber, 13, 'severity number (WARN)');
  t.equal(inTrace.severityText, 'warn', 'severity text');
  t.equal(inTrace.body.stringValue, 'disk <almost> full', 'message as body');
  t.equal(hex(inTrace.traceId), TRACE, 'trace id');
  t.equal(hex(inTrace.spanId), SPAN, 'span id');
  t.equal(inTrace.flags, 1, 'trace flags');
  const attrs = Object.fromEntries(inTrace.attributes.map((kv: any) => [kv.key, kv.value]));
  t.same(attrs, { req_id: { stringValue: 'r1' }, count: { intValue: '3' }, ratio: { doubleValue: 0.5 }, ok: { boolValue: true }, nested: { stringValue: '{"a":[1,2]}' } }, 'fields as attributes; nested as JSON text; undefined, null and functions left out');
  const [outside] = rl.scopeLogs[1].logRecords;
  t.equal(outside.traceId, undefined, 'no trace id outside a trace');
  t.equal(outside.spanId, undefined, 'no span id outside a trace');
  t.equal(outside.severityNumber, 9, 'INFO');
});

t.test('OTLP/JSON log records carry the same content', async (t) => {
  const resource = buildResource({ 'service.name': 'shop' });
  const body = JSON.parse(encodeOtlpLogsJson(records().map((r) => mapLogRecord(r, 1_700_000_001_000)), resource).toString('utf8'));
  const rec = body.resourceLogs[0].scopeLogs[0].logRecords[0];
  t.equal(rec.traceId, TRACE);
  t.equal(rec.spanId, SPAN);
  t.equal(rec.severityNumber, 13);
  t.equal(rec.timeUnixNano, '1700000000123500000', '64-bit integers as decimal strings');
  t.same(rec.body, { stringValue: 'disk <almost> full' });
  t.same(rec.attributes.find((a: any) => a.key === 'count').value, { intValue: '3' });
});

t.test('array fields are sent as OTLP arrays (protobuf and JSON), mixed ones and arrays of objects as JSON text', async (t) => {
  const [r] = records();
  const long = 'x'.repeat(20_000);
  const attributes = { tags: ['a', 'b'], codes: [1, 2.5, -3, true, null, undefined], empty: [], objects: [{ a: 1 }], many: Array.from({ length: 300 }, (_, i) => i), longs: [long, long] };
  const mapped = [mapLogRecord({ ...r!, attributes }, 1)];
  const resource = buildResource({ 'service.name': 'shop' });
  const rec = decode(new OtlpLogsProtobufEncoder().encode(mapped, resource)).resourceLogs[0].scopeLogs[0].logRecords[0];
  const attrs = Object.fromEntries(rec.attributes.map((kv: any) => [kv.key, kv.value]));
  t.same(attrs.tags, { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } }, 'strings');
  t.same(attrs.codes, { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }, { intValue: '-3' }, { boolValue: true }, {}, {}] } }, 'numbers, booleans, holes as empty values');
  t.same(attrs.empty, { arrayValue: {} }, 'an empty array');
  t.same(attrs.objects, { stringValue: '[{"a":1}]' }, 'an array of objects stays JSON text');
  t.equal(attrs.many.arrayValue.values.length, 128, 'at most 128 items');
  const kept = attrs.longs.arrayValue.values;
  t.equal(kept.length, 1, 'strings: 16 K characters in all, the rest cut');
  t.equal(kept[0].stringValue.length, 16 * 1024 + 1, 'cut with an ellipsis');
  const json = JSON.parse(encodeOtlpLogsJson(mapped, resource).toString('utf8')).resourceLogs[0].scopeLogs[0].logRecords[0];
  const jsonAttrs = Object.fromEntries(json.attributes.map((kv: any) => [kv.key, kv.value]));
  t.same(jsonAttrs.tags, { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } }, 'JSON: strings');
  t.same(jsonAttrs.codes, { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }, { intValue: '-3' }, { boolValue: true }, {}, {}] } }, 'JSON: the same values');
});

t.test('a record with a malformed id is sent without ids, never with a broken one', async (t) => {
  const [r] = records();
  const mapped = mapLogRecord({ ...r!, traceId: 'user-set' }, 1);
  t.equal(mapped.traceId, '');
  t.equal(mapped.spanId, '');
});

t.test('the logs URL sits next to the traces URL', async (t) => {
  t.equal(logsUrlFor('http://localhost:4318/v1/traces'), 'http://localhost:4318/v1/logs');
  t.equal(logsUrlFor('https://otel.example/otlp/v1/traces'), 'https://otel.example/otlp/v1/logs');
  t.equal(logsUrlFor('https://otel.example/ingest/'), 'https://otel.example/ingest/v1/logs');
});

t.test('records reach a collector through the bounded queue; a full queue and a dead endpoint are counted as drops', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const exporter = new OtlpLogExporter({ url: logsUrlFor(collector.otlpUrl), resource: { 'service.name': 'shop' } });
  const processor = new BatchProcessor(exporter, { maxQueueSize: 2, maxExportBatchSize: 2, scheduledDelayMs: 10_000 }, 'log record');
  for (const r of [...records(), ...records()]) processor.onEnd({ record: r, observedMs: Date.now() });
  t.equal(processor.pendingCount(), 2, 'at most the queue size is held');
  await processor.forceFlush();
  t.equal(collector.logs.length, 2, 'the queued records arrived');
  t.equal(collector.decodeErrors.length, 0, 'decoded with the official definitions');
  t.equal(processor.droppedSpans, 2, 'the two that did not fit are counted');

  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const dead = new OtlpLogExporter({ url: `http://127.0.0.1:${closed}/v1/logs`, maxAttempts: 1 });
  await dead.export(records().map((record) => ({ record, observedMs: 1 })));
  t.equal(dead.stats().droppedRecords, 2, 'records given up on are counted');
  await dead.shutdown();
});
