import t from 'tap';
import { UrlRedactor, stripCredentials } from '../../src/util/redact.js';

t.test('credentials are removed from absolute URLs only', async (t) => {
  t.equal(stripCredentials('https://user:pa%40ss@example.com:8443/p?q=1'), 'https://example.com:8443/p?q=1');
  t.equal(stripCredentials('http://token@host/x'), 'http://host/x');
  t.equal(stripCredentials('http://host/path@notcreds'), 'http://host/path@notcreds');
  t.equal(stripCredentials('/relative?x=1'), '/relative?x=1');
});

t.test('sensitive query parameter values are replaced, others kept, order kept', async (t) => {
  const r = new UrlRedactor();
  t.equal(r.redact('/search?q=shoes&page=2'), '/search?q=shoes&page=2');
  t.equal(r.redact('/cb?access_token=abc&state=xyz&X-Amz-Signature=s1#frag'), '/cb?access_token=REDACTED&state=xyz&X-Amz-Signature=REDACTED#frag');
  t.equal(r.redact('http://u:p@h/x?api_key=1&password=2&client_secret=3&apiKey=4'), 'http://h/x?api_key=REDACTED&password=REDACTED&client_secret=REDACTED&apiKey=REDACTED');
  t.equal(r.redact('/x?%74oken=1'), '/x?%74oken=REDACTED', 'percent-encoded names are decoded before matching');
  t.equal(r.redact('/x?flag&token'), '/x?flag&token', 'names without values have nothing to hide');
});

t.test('the list is configurable', async (t) => {
  const r = new UrlRedactor(['ssn']);
  t.equal(r.redact('/x?ssn=123&token=abc'), '/x?ssn=REDACTED&token=abc');
});

t.test('redactJoined: origin and path checked as parts, the same result as redacting the joined URL', async (t) => {
  const r = new UrlRedactor();
  const cases: Array<[string, string]> = [
    ['http://host:8080', '/users/42'],
    ['http://u:p@host', '/x'],
    ['https://host', '/cb?access_token=abc&state=xyz'],
    ['http://token@host', '/x?password=1'],
    ['http://host', '/path@notcreds'],
    ['http://host', '/search?q=shoes'],
  ];
  for (const [origin, path] of cases) t.equal(r.redactJoined(origin, path), r.redact(origin + path), `${origin} + ${path}`);
  t.equal(r.redactJoined('http://u:p@host', '/x'), 'http://host/x', 'credentials in the origin removed');
  t.equal(r.redactJoined('https://host', '/cb?access_token=abc'), 'https://host/cb?access_token=REDACTED', 'a sensitive parameter in the path redacted');
});
