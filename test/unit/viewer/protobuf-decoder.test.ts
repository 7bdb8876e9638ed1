import t from 'tap';
import { decodeOtlpProtobuf } from '../../../src/viewer/otlp-protobuf-decoder.js';
import { MalformedProtobuf } from '../../../src/viewer/protobuf-reader.js';
import { Tracer, InMemorySpanExporter, Tags, recordError, followsFrom } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';
import { OtlpProtobufEncoder } from '../../../src/export/otlp-protobuf.js';
import { buildResource } from '../../../src/export/resource.js';
import { encodeOfficial, id } from './official-otlp.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const ROOT = 'eee19b7ec3c1b174';
const CHILD = 'eee19b7ec3c1b173';

function fullRequest(): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.cpus', value: { intValue: '8' } }] },
        scopeSpans: [
          {
            scope: { name: 'io.opentelemetry.java', version: '1.40.0' },
            spans: [
              {
                traceId: id(TRACE), spanId: id(ROOT), name: 'POST /pay', kind: 2,
                startTimeUnixNano: '1700000000123456789', endTimeUnixNano: '1700000000223456790',
                attributes: [
                  { key: 's', value: { stringValue: 'héllo ✓' } },
                  { key: 'b', value: { boolValue: true } },
                  { key: 'i', value: { intValue: '-42' } },
                  { key: 'big', value: { intValue: '9007199254740993' } },
                  { key: 'd', value: { doubleValue: 0.25 } },
                  { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, { arrayValue: { values: [{ boolValue: false }] } }] } } },
                  { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }, { key: 'n', value: { kvlistValue: { values: [{ key: 'deep', value: { doubleValue: 1.5 } }] } } }] } } },
                  { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 255]) } },
                  { key: 'empty', value: {} },
                ],
                events: [{ timeUnixNano: '1700000000150000000', name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'card declined' } }] }],
                links: [{ traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('b7ad6b7169203331'), attributes: [{ key: 'opentracing.ref_type', value: { stringValue: 'follows_from' } }] }],
                status: { code: 2, message: 'card declined' },
              },
              { traceId: id(TRACE), spanId: id(CHILD), parentSpanId: id(ROOT), name: 'SELECT', kind: 3, startTimeUnixNano: '1700000000130000000', endTimeUnixNano: '1700000000140000000' },
            ],
          },
        ],
      },
    ],
  };
}

t.test('a request encoded by the official definitions decodes field for field', async (t) => {
  const { spans } = decodeOtlpProtobuf(encodeOfficial(fullRequest()));
  t.equal(spans.length, 2);
  const [root, child] = spans as [any, any];
  t.equal(root.traceId, TRACE);
  t.equal(root.spanId, ROOT);
  t.equal(root.parentSpanId, '');
  t.equal(root.name, 'POST /pay');
  t.equal(root.kind, 'server');
  t.equal(root.service, 'checkout');
  t.equal(root.startTimeUnixNano, '1700000000123456789', 'nanosecond string is exact');
  t.equal(root.endTimeUnixNano, '1700000000223456790');
  t.equal(root.durationMs, 100.000001, 'duration is exact to the nanosecond');
  t.ok(Math.abs(root.startMs - 1700000000123.4568) < 0.001, 'start in ms keeps the fraction');
  t.equal(root.error, true);
  t.equal(root.statusMessage, 'card declined');
  const attrs = Object.fromEntries(root.attributes.map((a: any) => [a.key, a.value]));
  t.equal(attrs.s, 'héllo ✓');
  t.equal(attrs.b, true);
  t.equal(attrs.i, -42, 'negative int64 (ten-byte varint)');
  t.equal(attrs.big, '9007199254740993', 'an int64 beyond 2^53 stays exact, as text');
  t.equal(attrs.d, 0.25);
  t.same(attrs.arr, ['a', 1, [false]]);
  t.same(JSON.parse(JSON.stringify(attrs.kv)), { x: 'y', n: { deep: 1.5 } });
  t.equal(attrs.bytes, Buffer.from([0, 1, 2, 255]).toString('base64'), 'bytes shown as base64');
  t.equal(attrs.empty, null);
  t.same(root.events.map((e: any) => e.name), ['exception']);
  t.equal(root.events[0].timeMs, 1700000000150);
  t.same(root.events[0].attributes, [{ key: 'exception.message', value: 'card declined' }]);
  t.same(root.links, [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: [{ key: 'opentracing.ref_type', value: 'follows_from' }] }]);
  t.same(root.scope, { name: 'io.opentelemetry.java', version: '1.40.0' });
  t.same(root.resource, [{ key: 'service.name', value: 'checkout' }, { key: 'host.cpus', value: 8 }]);
  t.equal(child.parentSpanId, ROOT);
  t.equal(child.kind, 'client');
  t.equal(child.error, false);
  t.equal(child.durationMs, 10);
});

t.test('a resource without service.name gives unknown_service; unknown kinds are unspecified', async (t) => {
  const { spans } = decodeOtlpProtobuf(encodeOfficial({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: id(TRACE), spanId: id(ROOT), name: 'x', kind: 9 }] }] }] }));
  t.equal(spans[0]!.service, 'unknown_service');
  t.equal(spans[0]!.kind, 'unspecified');
  t.same(spans[0]!.scope, { name: '', version: '' });
});

t.test('fields in any order and unknown fields are accepted', async (t) => {
  const official = encodeOfficial(fullRequest());
  // Append unknown fields of every wire type to the top-level message: 99 varint, 98 fixed64, 97 bytes, 96 fixed32.
  const unknown = Buffer.from([...varintBytes((99 << 3) | 0), 0x96, 0x01, ...varintBytes((98 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8, ...varintBytes((97 << 3) | 2), 3, 9, 9, 9, ...varintBytes((96 << 3) | 5), 1, 2, 3, 4].flatMap((b) => (Array.isArray(b) ? b : [b])));
  const { spans } = decodeOtlpProtobuf(Buffer.concat([unknown, official, unknown]));
  t.equal(spans.length, 2);
  t.equal(spans[0]!.name, 'POST /pay');
});

t.test('our own exporter\'s encoder round-trips through the decoder', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const cause = tracer.startSpan('cause', { startTime: 1_700_000_000_000 });
  cause.finish(1_700_000_000_001);
  const root = tracer.startSpan('GET /users', { startTime: 1_700_000_000_123.25, tags: { [Tags.SPAN_KIND]: 'server', 'http.status_code': 200, ratio: 0.25, big: -5_000_000_000 } });
  const child = tracer.startSpan('db', { childOf: root, references: [followsFrom(cause)], tags: { [Tags.SPAN_KIND]: 'client' } });
  recordError(child, new Error('db down'));
  child.finish(1_700_000_000_200);
  root.finish(1_700_000_000_250.5);
  const mapped = exporter.getFinishedSpans().map((s) => mapSpan(s, { exportBaggage: false }));
  const buf = new OtlpProtobufEncoder().encode(mapped, buildResource({ 'service.name': 'users-api' }));
  const { spans } = decodeOtlpProtobuf(buf);
  t.same(spans.map((s) => s.name), ['cause', 'db', 'GET /users']);
  const r = spans[2]!;
  t.equal(r.traceId, root.context().traceId);
  t.equal(r.spanId, root.context().spanId);
  t.equal(r.service, 'users-api');
  t.equal(r.startTimeUnixNano, '1700000000123250000');
  t.equal(r.durationMs, 127.25);
  t.same(r.attributes, [{ key: 'http.status_code', value: 200 }, { key: 'ratio', value: 0.25 }, { key: 'big', value: -5_000_000_000 }]);
  const c = spans[1]!;
  t.equal(c.parentSpanId, root.context().spanId);
  t.equal(c.error, true);
  t.equal(c.statusMessage, 'db down');
  t.equal(c.links[0]!.spanId, cause.context().spanId);
});

t.test('every truncation of a valid body is rejected as malformed or decodes a prefix, never crashes or hangs', async (t) => {
  const full = encodeOfficial(fullRequest());
  let malformed = 0;
  for (let n = 1; n < full.length; n++) {
    try {
      decodeOtlpProtobuf(full.subarray(0, n));
    } catch (err) {
      if (!(err instanceof MalformedProtobuf)) throw err;
      malformed++;
    }
  }
  // Cutting inside the one top-level message always breaks its length prefix.
  t.equal(malformed, full.length - 1, 'all truncations are MalformedProtobuf');
});

t.test('garbage, wrong wire types, huge lengths and deep nesting are MalformedProtobuf', async (t) => {
  const cases: [string, Buffer][] = [
    ['wire type 7', Buffer.from([(1 << 3) | 7])],
    ['field 0', Buffer.from([0, 0])],
    ['length past end', Buffer.from([(1 << 3) | 2, 0xff, 0xff, 0xff, 0x0f])],
    ['resourceSpans as varint', Buffer.from([(1 << 3) | 0, 1])],
    ['eleven-byte varint', Buffer.from([...varintBytes((99 << 3) | 0), ...new Array(11).fill(0xff)])],
    ['text', Buffer.from('{"resourceSpans":[]}')],
  ];
  for (const [name, buf] of cases) t.throws(() => decodeOtlpProtobuf(buf), MalformedProtobuf, name);

  // AnyValue arrays nested 40 deep (the limit is 32), built by hand.
  let any = Buffer.from([(1 << 3) | 2, 1, 0x61]);
  for (let i = 0; i < 40; i++) {
    const array = Buffer.concat([Buffer.from([(1 << 3) | 2]), Buffer.from(varintBytes(any.length)), any]);
    any = Buffer.concat([Buffer.from([(5 << 3) | 2]), Buffer.from(varintBytes(array.length)), array]);
  }
  const kv = Buffer.concat([Buffer.from([(1 << 3) | 2, 1, 0x6b, (2 << 3) | 2]), Buffer.from(varintBytes(any.length)), any]);
  const span = Buffer.concat([Buffer.from([(1 << 3) | 2, 16]), id(TRACE), Buffer.from([(2 << 3) | 2, 8]), id(ROOT), Buffer.from([(9 << 3) | 2]), Buffer.from(varintBytes(kv.length)), kv]);
  const body = wrap(1, wrap(2, wrap(2, span)));
  t.throws(() => decodeOtlpProtobuf(body), /nested deeper/);

  // Random bytes: a bounded fuzz, deterministic seed.
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 300; i++) {
    const buf = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    try {
      decodeOtlpProtobuf(buf);
    } catch (err) {
      if (!(err instanceof MalformedProtobuf)) t.fail(`random body ${i} threw ${String(err)}`);
    }
  }
});

function wrap(field: number, inner: Buffer): Buffer {
  return Buffer.concat([Buffer.from(varintBytes((field << 3) | 2)), Buffer.from(varintBytes(inner.length)), inner]);
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

t.test('fixed64 nanoseconds → exact decimal and milliseconds, across the whole range', async (t) => {
  const { uint64String, nanosPartsToMs } = await import('../../../src/viewer/protobuf-reader.js');
  let seed = 7;
  const rand32 = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
  const cases: [number, number][] = [[0, 0], [1, 0], [0xffffffff, 0x1fffff], [0, 0x200000], [0xffffffff, 0xffffffff], [999999, 0x17b2a9e5]];
  for (let i = 0; i < 200; i++) cases.push([rand32(), rand32()]);
  for (const [lo, hi] of cases) {
    const exact = (BigInt(hi) << 32n) | BigInt(lo);
    t.equal(uint64String(lo, hi), exact.toString(), `${hi}:${lo}`);
    // Within double precision of the exact value (a few ulps), wherever in the range.
    const ms = nanosPartsToMs(lo, hi);
    const error = Math.abs(ms - Number(exact / 1000n) / 1000);
    t.ok(error <= Math.max(ms * 2 ** -50, 1e-3), `ms of ${hi}:${lo} off by ${error}`);
  }
});
