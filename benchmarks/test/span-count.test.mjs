// The sink's span counts decide whether a cell is valid, so they are checked against payloads
// built here by hand (protobuf, JSON) and with the msgpack encoder (Datadog).
import assert from 'node:assert/strict';
import test from 'node:test';
import { encode } from '@msgpack/msgpack';
import { countDatadogSpans, countOtlpJsonSpans, countOtlpProtobufSpans } from '../overhead/span-count.mjs';

const varint = (n) => {
  const out = [];
  while (n > 127) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
};
const lenField = (field, bytes) => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const span = (nameLength) => [
  ...lenField(1, new Array(16).fill(7)), // trace_id
  ...lenField(5, new Array(nameLength).fill(0x61)), // name
  ...varint(6 * 8 + 0), ...varint(2), // kind (varint field)
  ...varint(7 * 8 + 1), ...new Array(8).fill(1), // start_time_unix_nano (fixed64)
];
const scopeSpans = (n) => [...lenField(1, lenField(1, [0x78])), ...Array.from({ length: n }, () => lenField(2, span(200))).flat()];
const resourceSpans = (...scopes) => [...lenField(1, lenField(1, [])), ...scopes.flatMap((n) => lenField(2, scopeSpans(n)))];

test('counts spans across resources and scopes in an OTLP protobuf request', () => {
  const body = Buffer.from([...lenField(1, resourceSpans(2, 3)), ...lenField(1, resourceSpans(4))]);
  assert.equal(countOtlpProtobufSpans(body), 9);
});

test('an empty OTLP request has no spans', () => {
  assert.equal(countOtlpProtobufSpans(Buffer.alloc(0)), 0);
});

test('a truncated OTLP body is rejected rather than miscounted', () => {
  const body = Buffer.from(lenField(1, resourceSpans(2)));
  assert.throws(() => countOtlpProtobufSpans(body.subarray(0, body.length - 5)));
});

test('counts spans in an OTLP JSON request', () => {
  const body = { resourceSpans: [{ scopeSpans: [{ spans: [{}, {}] }, { spans: [{}] }] }, { scopeSpans: [] }] };
  assert.equal(countOtlpJsonSpans(JSON.stringify(body)), 3);
});

test('counts spans in a Datadog v0.4 payload of several traces', () => {
  const payload = encode([[{ name: 'web.request' }, { name: 'express.middleware' }], [{ name: 'http.request' }]]);
  assert.equal(countDatadogSpans(Buffer.from(payload)), 3);
});
