import t from 'tap';
import { HttpSender, parseRetryAfter } from '../../../src/export/http-sender.js';
import { isTracingSuppressed } from '../../../src/util/suppress.js';
import { Collector } from '../../helpers/collector.js';
import { fixturePath } from '../../helpers/fixture-app.js';

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

t.test('exports never run through wrappers of http.request, http.get or ClientRequest emit, even ones installed later', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  // Stand in for an instrumentation that patches after the exporter loaded (start() loads the
  // exporter before any hook): record every call that reaches a wrapper.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const httpModule = require('node:http') as typeof import('node:http');
  const originalRequest = httpModule.request;
  const originalGet = httpModule.get;
  const proto = httpModule.ClientRequest.prototype as unknown as { emit: (...a: unknown[]) => boolean };
  const hadOwnEmit = Object.prototype.hasOwnProperty.call(proto, 'emit');
  const originalEmit = proto.emit;
  const seen: string[] = [];
  httpModule.request = function requestWithProbe(this: unknown, ...args: unknown[]) {
    seen.push(`request (suppressed: ${isTracingSuppressed()})`);
    return (originalRequest as (...a: unknown[]) => import('node:http').ClientRequest).apply(this, args);
  } as typeof originalRequest;
  httpModule.get = function getWithProbe(this: unknown, ...args: unknown[]) {
    seen.push('get');
    return (originalGet as (...a: unknown[]) => import('node:http').ClientRequest).apply(this, args);
  } as typeof originalGet;
  proto.emit = function emitWithProbe(this: unknown, ...args: unknown[]) {
    seen.push(`emit ${String(args[0])}`);
    return originalEmit.apply(this, args);
  };
  t.teardown(() => {
    httpModule.request = originalRequest;
    httpModule.get = originalGet;
    if (hadOwnEmit) proto.emit = originalEmit;
    else delete (proto as { emit?: unknown }).emit;
  });
  const sender = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json' });
  t.equal((await sender.send(Buffer.from('[]'))).ok, true);
  t.equal(collector.requests.length, 1, 'the export reached the collector');
  t.same(seen, [], 'no wrapper saw the export');
  t.equal(isTracingSuppressed(), false, 'suppression does not leak out to the caller');
  // The probe itself works: an ordinary request goes through it.
  await new Promise<void>((resolve) => httpModule.get(collector.zipkinUrl, (res) => res.resume().on('end', resolve)));
  t.ok(seen.includes('get'), 'the probe sees ordinary requests');
});

t.test('the payload is said to be free only when one try wrote it out in full (or a compressed copy went instead)', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const sender = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json' });
  const big = Buffer.from(JSON.stringify([{ traceId: 'a', id: 'b', name: 'x'.repeat(300_000), timestamp: 1, duration: 1 }]));
  t.match(await sender.send(big), { ok: true, attempts: 1, payloadFree: true }, 'one try, written out before the answer');
  collector.fault({ status: 500, times: 1 });
  const retried = await sender.send(Buffer.from('[]'));
  t.match(retried, { ok: true, attempts: 2 });
  t.equal(retried.payloadFree, undefined, 'after a retry: not certain, so not free');
  collector.fault({ status: 400 });
  t.match(await sender.send(Buffer.from('[]')), { ok: false, attempts: 1, payloadFree: true }, 'a refusal after the body was written');
  collector.fault(null);
  const gz = new HttpSender({ ...fast, url: collector.zipkinUrl, contentType: 'application/json', compression: 'gzip' });
  t.match(await gz.send(Buffer.from('[]')), { ok: true, payloadFree: true }, 'gzip: a compressed copy was sent');
});

t.test('an exporter loaded after the agent patched https.request (built at the first span) still sends with the original', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require('node:https') as typeof import('node:https');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wrapMethod, unwrapMethod } = require('../../../src/agent/wrap.js') as typeof import('../../../src/agent/wrap.js');
  const seen: string[] = [];
  t.ok(wrapMethod(https, 'request', (original: typeof https.request) => function requestWithProbe(this: unknown, ...args: unknown[]) {
    seen.push('request');
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  }));
  t.teardown(() => unwrapMethod(https, 'request'));
  // A fresh copy of the sender module, evaluated now that https.request is our wrapper.
  const senderPath = require.resolve('../../../src/export/http-sender.js');
  const cached = require.cache[senderPath];
  delete require.cache[senderPath];
  t.teardown(() => {
    if (cached !== undefined) require.cache[senderPath] = cached;
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HttpSender: FreshSender } = require('../../../src/export/http-sender.js') as typeof import('../../../src/export/http-sender.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const collector = await Collector.start({ tls: { key: readFileSync(fixturePath('http', 'tls-key.pem')), cert: readFileSync(fixturePath('http', 'tls-cert.pem')) } });
  t.teardown(() => collector.close());
  const result = await new FreshSender({ ...fast, maxAttempts: 1, url: collector.otlpUrl, contentType: 'application/x-protobuf' }).send(Buffer.from('x'));
  t.match(result.reason, /self[- ]signed certificate/, 'the try reached the TLS server (untrusted here, as it should be)');
  t.same(seen, [], 'the wrapper never saw the export');
  https.request('https://127.0.0.1:1/').on('error', () => {}).destroy();
  t.same(seen, ['request'], 'the probe sees ordinary requests');
});
