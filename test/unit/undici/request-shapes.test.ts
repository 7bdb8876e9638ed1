import t from 'tap';
import { hasHeader, isAbort, isFetchRequest, locationHeader, parseOrigin, requestUrl } from '../../../instrumentations/undici/request.js';

t.test('headers are found in every shape undici has used', async (t) => {
  t.ok(hasHeader('host: a\r\nTraceParent: x\r\n', 'traceparent'), 'early 5.x: a header block string, any case');
  t.notOk(hasHeader('x-traceparent: x\r\n', 'traceparent'), 'a longer name is not a match');
  t.ok(hasHeader(['accept', '*/*', 'traceparent', 'x'], 'traceparent'), 'flat [name, value] array');
  t.notOk(hasHeader(['x', 'traceparent'], 'traceparent'), 'a value is not a name');
  t.ok(hasHeader({ TraceParent: 'x' }, 'traceparent'), 'HTTP/2 object');
  t.notOk(hasHeader(undefined, 'traceparent'));
  t.ok(isFetchRequest({ headers: ['sec-fetch-mode', 'cors'] }));
  t.notOk(isFetchRequest({ headers: [] }));
});

t.test('origins and URLs', async (t) => {
  t.same(parseOrigin('http://127.0.0.1:8080'), { hostname: '127.0.0.1', port: 8080 });
  t.same(parseOrigin('https://example.com'), { hostname: 'example.com', port: 443 });
  t.same(parseOrigin('http://[::1]:9000'), { hostname: '::1', port: 9000 });
  t.same(parseOrigin(new URL('http://[::1]/x')), { hostname: '::1', port: 80 });
  t.equal(parseOrigin('not a url'), null);
  t.equal(requestUrl({ origin: 'http://h:1', path: '/p?q=1' }), 'http://h:1/p?q=1');
  t.equal(requestUrl({ origin: 'http://h:1/', path: '/p' }), 'http://h:1/p');
  t.equal(locationHeader([Buffer.from('Location'), Buffer.from('/next')]), '/next');
  t.equal(locationHeader(['content-type', 'text/plain']), null);
});

t.test('aborts are told apart from failures', async (t) => {
  t.ok(isAbort(new DOMException('x', 'AbortError')));
  t.ok(isAbort('Response object has been garbage collected'), 'a reason of the caller\'s own');
  t.notOk(isAbort(new DOMException('x', 'TimeoutError')), 'a timeout is not an abort');
  t.notOk(isAbort(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
});
