import t from 'tap';
import { HttpSender, parseRetryAfter } from '../../../src/export/http-sender.js';
import { isTracingSuppressed } from '../../../src/util/suppress.js';
import { Collector } from '../../helpers/collector.js';

const fast = { initialBackoffMs: 5, maxBackoffMs: 50, timeoutMs: 500 };

t.test('Retry-After: seconds, HTTP dates, junk', async (t) => {
  t.equal(parseRetryAfter('3'), 3000);
  t.equal(parseRetryAfter(undefined), 0);
  t.equal(parseRetryAfter('soon'), 0);
  const inTwo = new Date(Date.now() + 2000).toUTCString();
  t.ok(parseRetryAfter(inTwo) > 500 && parseRetryAfter(inTwo) <= 2000);
});

t.test('5xx and 429 are retried a bounded number of times; 400 is not retried', async (t) => {
  const collector = await Collector.start({ fault: { status: 503 } });
  t.teardown(() => collector.close());
  const sender = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json', maxAttempts: 3 });
  const r = await sender.send(Buffer.from('[]'));
  t.same({ ok: r.ok, attempts: r.attempts, status: r.status }, { ok: false, attempts: 3, status: 503 });
  t.equal(collector.requests.length, 3);

  collector.reset();
  collector.fault({ status: 429 });
  t.equal((await sender.send(Buffer.from('[]'))).attempts, 3);

  collector.reset();
  collector.fault({ status: 400 });
  const bad = await sender.send(Buffer.from('[]'));
  t.same({ ok: bad.ok, attempts: bad.attempts }, { ok: false, attempts: 1 });

  collector.fault({ status: 500, times: 1 });
  const recovered = await sender.send(Buffer.from('[]'));
  t.same({ ok: recovered.ok, attempts: recovered.attempts }, { ok: true, attempts: 2 });
});

t.test('Retry-After is honoured for the delay before the next try', async (t) => {
  const collector = await Collector.start({ fault: { status: 429, retryAfter: '1', times: 1 } });
  t.teardown(() => collector.close());
  const sender = new HttpSender({ ...fast, maxBackoffMs: 5000, url: collector.zipkinUrl, contentType: 'application/json' });
  const r = await sender.send(Buffer.from('[]'));
  t.equal(r.ok, true);
  const gap = collector.requests[1]!.receivedAt - collector.requests[0]!.receivedAt;
  t.ok(gap >= 900, `waited ${gap} ms after "Retry-After: 1"`);
});

t.test('a backend that never answers costs one timeout per try', async (t) => {
  const collector = await Collector.start({ fault: { hang: true } });
  t.teardown(() => collector.close());
  const sender = new HttpSender({ ...fast, timeoutMs: 100, maxAttempts: 2, url: collector.zipkinUrl, contentType: 'application/json' });
  const r = await sender.send(Buffer.from('[]'));
  t.same({ ok: r.ok, attempts: r.attempts, status: r.status }, { ok: false, attempts: 2, status: 0 });
  t.match(r.reason, /no answer within 100 ms/);
});

t.test('headers and gzip reach the backend; headers never appear in failure reasons', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const sender = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json', headers: { authorization: 'Bearer s3cret' }, compression: 'gzip' });
  t.equal((await sender.send(Buffer.from('[{"traceId":"a","id":"b","name":"n","timestamp":1,"duration":1}]'))).ok, true);
  t.equal(collector.requests[0]!.headers.authorization, 'Bearer s3cret');
  t.equal(collector.requests[0]!.contentEncoding, 'gzip');
  t.equal(collector.zipkinSpans.length, 1, 'the collector could gunzip and parse it');
  collector.fault({ status: 500 });
  const failed = await new HttpSender({ ...fast, maxAttempts: 1, url: collector.zipkinUrl, contentType: 'application/json', headers: { authorization: 'Bearer s3cret' } }).send(Buffer.from('[]'));
  t.notMatch(failed.reason, /s3cret/);
});

t.test('exports run with tracing suppressed and on unref\'d sockets', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  // Stand in for an instrumentation: patch http.request the way a wrapper would, and record
  // what it would see.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const httpModule = require('node:http') as typeof import('node:http');
  const original = httpModule.request;
  const seen: { suppressed: boolean; refed: boolean }[] = [];
  httpModule.request = function requestWithProbe(this: unknown, ...args: unknown[]) {
    const suppressed = isTracingSuppressed();
    const req = (original as (...a: unknown[]) => import('node:http').ClientRequest).apply(this, args);
    req.on('socket', (socket) => setImmediate(() => seen.push({ suppressed, refed: (socket as unknown as { _handle?: { hasRef?(): boolean } })._handle?.hasRef?.() ?? true })));
    return req;
  } as typeof original;
  t.teardown(() => {
    httpModule.request = original;
  });
  const sender = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json' });
  t.equal((await sender.send(Buffer.from('[]'))).ok, true);
  t.equal(isTracingSuppressed(), false, 'suppression does not leak out to the caller');
  t.same(seen, [{ suppressed: true, refed: false }]);
});
