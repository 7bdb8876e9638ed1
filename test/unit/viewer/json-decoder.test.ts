import t from 'tap';
import { decodeOtlpJson, MalformedJson } from '../../../src/viewer/otlp-json-decoder.js';
import { toOtlpJson } from '../../../src/viewer/otlp-json-encoder.js';
import { Tracer, InMemorySpanExporter, Tags } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { encodeOtlpJson } from '../../../src/export/otlp-json.js';
import { buildResource } from '../../../src/export/resource.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const decode = (o: unknown) => decodeOtlpJson(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o))).spans;
const req = (spans: unknown[], resource: unknown = { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }) => ({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'sc', version: '2' }, spans }] }] });

t.test('what the OTLP spec allows: enums as numbers or names, int64 as strings or numbers, hex ids in any case', async (t) => {
  const spans = decode(req([
    { traceId: TRACE.toUpperCase(), spanId: 'EEE19B7EC3C1B174', name: 'a', kind: 'SPAN_KIND_PRODUCER', startTimeUnixNano: '1700000000000000001', endTimeUnixNano: '1700000000000500001', status: { code: 'STATUS_CODE_ERROR', message: 'boom' }, attributes: [{ key: 'n', value: { intValue: 7 } }, { key: 's', value: { intValue: '-12' } }, { key: 'inf', value: { doubleValue: 'Infinity' } }, { key: 'nan', value: { doubleValue: 'NaN' } }, { key: 'b64', value: { bytesValue: 'AAEC' } }] },
    { traceId: TRACE, spanId: 'eee19b7ec3c1b175', parentSpanId: 'eee19b7ec3c1b174', name: 'b', kind: 4, startTimeUnixNano: 1700000000000000, endTimeUnixNano: 1700000001000000, status: { code: 1 } },
  ]));
  const [a, b] = spans as [any, any];
  t.equal(a.traceId, TRACE);
  t.equal(a.spanId, 'eee19b7ec3c1b174');
  t.equal(a.kind, 'producer');
  t.equal(a.startTimeUnixNano, '1700000000000000001');
  t.equal(a.durationMs, 0.5);
  t.equal(a.error, true);
  t.equal(a.statusMessage, 'boom');
  t.same(a.attributes.map((x: any) => x.value), [7, -12, Infinity, NaN, 'AAEC']);
  t.equal(b.kind, 'producer');
  t.equal(b.startTimeUnixNano, '1700000000000000');
  t.equal(b.durationMs, 1, 'times given as JSON numbers');
  t.equal(b.error, false, 'status OK is not an error');
  t.equal(b.parentSpanId, 'eee19b7ec3c1b174');
  t.same(a.scope, { name: 'sc', version: '2' });
  t.equal(a.service, 'svc');
});

t.test('snake_case names, legacy instrumentationLibrarySpans, missing optional parts', async (t) => {
  const spans = decode({ resource_spans: [{ instrumentationLibrarySpans: [{ instrumentationLibrary: { name: 'old' }, spans: [{ trace_id: TRACE, span_id: 'eee19b7ec3c1b174', name: 'x', start_time_unix_nano: '5', end_time_unix_nano: '6' }] }] }] });
  t.equal(spans.length, 1);
  t.equal(spans[0]!.service, 'unknown_service');
  t.same(spans[0]!.scope, { name: 'old', version: '' });
  t.equal(spans[0]!.startTimeUnixNano, '5');
  t.same(spans[0]!.events, []);
  t.same(decode('{}'), [], 'an empty request has no spans');
  t.equal(decodeOtlpJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(req([{ traceId: TRACE, spanId: 'eee19b7ec3c1b174' }])))])).spans.length, 1, 'a UTF-8 BOM is skipped');
});

t.test('ids written as base64 (the generic protobuf JSON mapping) are accepted too', async (t) => {
  const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
  const spans = decode(req([{ traceId: b64(TRACE), spanId: b64('eee19b7ec3c1b174'), parentSpanId: b64('eee19b7ec3c1b173'), name: 'x', links: [{ traceId: b64(TRACE), spanId: b64('0102030405060708') }] }]));
  t.equal(spans[0]!.traceId, TRACE);
  t.equal(spans[0]!.spanId, 'eee19b7ec3c1b174');
  t.equal(spans[0]!.parentSpanId, 'eee19b7ec3c1b173');
  t.equal(spans[0]!.links[0]!.spanId, '0102030405060708');
});

t.test('an error=true attribute (OpenTracing style) marks the span an error', async (t) => {
  const spans = decode(req([{ traceId: TRACE, spanId: 'eee19b7ec3c1b174', name: 'x', attributes: [{ key: 'error', value: { boolValue: true } }] }]));
  t.equal(spans[0]!.error, true);
});

t.test('bad JSON and wrong structure are MalformedJson', async (t) => {
  t.throws(() => decode('{"resourceSpans": ['), MalformedJson);
  t.throws(() => decode('[]'), MalformedJson);
  t.throws(() => decode('null'), MalformedJson);
  t.throws(() => decode({ resourceSpans: {} }), MalformedJson);
  t.throws(() => decode(req(['not an object'])), MalformedJson);
  let deep: unknown = { stringValue: 'x' };
  for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
  t.throws(() => decode(req([{ traceId: TRACE, spanId: 'eee19b7ec3c1b174', attributes: [{ key: 'k', value: deep }] }])), /nested deeper/);
});

t.test('our exporter\'s OTLP JSON decodes; the download encoder round-trips through the decoder', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const root = tracer.startSpan('GET /', { startTime: 1_700_000_000_000.5, tags: { [Tags.SPAN_KIND]: 'server', n: 3, r: 0.5, ok: true } });
  root.log({ event: 'cache miss', key: 'u:1' }, 1_700_000_000_001);
  root.finish(1_700_000_000_010.25);
  const mapped = exporter.getFinishedSpans().map((s) => mapSpan(s, { exportBaggage: false }));
  const spans = decodeOtlpJson(encodeOtlpJson(mapped, buildResource({ 'service.name': 'json-svc' }))).spans;
  t.equal(spans.length, 1);
  const s = spans[0]!;
  t.equal(s.service, 'json-svc');
  t.equal(s.kind, 'server');
  t.equal(s.startTimeUnixNano, '1700000000000500000');
  t.equal(s.durationMs, 9.75);
  t.same(s.events, [{ timeMs: 1_700_000_000_001, name: 'cache miss', attributes: [{ key: 'key', value: 'u:1' }] }]);

  const rich = { ...s, attributes: [...s.attributes, { key: 'list', value: ['a', 2, { k: null }] }], error: true, statusMessage: 'bad' };
  const again = decodeOtlpJson(Buffer.from(JSON.stringify(toOtlpJson([rich])))).spans;
  t.equal(again.length, 1);
  const back = again[0]!;
  t.same(
    { ...back, attributes: JSON.parse(JSON.stringify(back.attributes)), resource: back.resource, scope: back.scope },
    { ...rich, attributes: JSON.parse(JSON.stringify(rich.attributes)) },
    'a downloaded trace reads back as the same spans',
  );
});
