// Hostile input at the server: malformed, huge (up to Node's header limit), repeated and binary
// propagation headers and URLs. The app must answer exactly as without the agent, never crash,
// and every span it exports must be valid.
import t from 'tap';
import * as net from 'node:net';
import { Collector } from '../helpers/collector.js';
import { startApp, type FixtureApp } from '../helpers/fixture-app.js';
import { APP } from './helpers/load.js';

/** Node's default --max-http-header-size is 16 KiB; stay just under it with the request line. */
const NEAR_LIMIT = 16 * 1024 - 600;
const hex = (n: number, c = 'a'): string => c.repeat(n);
const binary = Buffer.from(Array.from({ length: 200 }, (_, i) => 0x80 + (i % 0x7f))).toString('latin1');

/** [name, request target, header lines] */
const CASES: Array<[string, string, string[]]> = [
  ['empty traceparent', '/', ['traceparent: ']],
  ['garbage traceparent', '/', ['traceparent: garbage']],
  ['non-hex traceparent', '/', [`traceparent: 00-${hex(32, 'z')}-${hex(16, 'z')}-01`]],
  ['all-zero ids', '/', [`traceparent: 00-${hex(32, '0')}-${hex(16, '0')}-01`]],
  ['version ff', '/', [`traceparent: ff-${hex(32)}-${hex(16)}-01`]],
  ['future version with extra fields', '/', [`traceparent: 01-${hex(32)}-${hex(16)}-01-whatever-else`]],
  ['upper-case traceparent', '/', [`traceparent: 00-${hex(32, 'A')}-${hex(16, 'B')}-01`]],
  ['huge traceparent', '/', [`traceparent: 00-${hex(NEAR_LIMIT)}`]],
  ['repeated traceparent', '/', Array.from({ length: 60 }, (_, i) => `traceparent: 00-${(i + 1).toString(16).padStart(32, '0')}-${hex(16, 'b')}-01`)],
  ['binary traceparent', '/', [`traceparent: ${binary}`]],
  ['tracestate with 1000 members', '/', [`traceparent: 00-${hex(32, 'c')}-${hex(16, 'd')}-01`, `tracestate: ${Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join(',')}`]],
  ['huge tracestate value', '/', [`traceparent: 00-${hex(32, 'c')}-${hex(16, 'd')}-01`, `tracestate: k=${hex(NEAR_LIMIT, 'v')}`]],
  ['repeated binary tracestate', '/', [`traceparent: 00-${hex(32, 'c')}-${hex(16, 'd')}-01`, ...Array.from({ length: 40 }, () => `tracestate: ${binary.slice(0, 100)}=x`)]],
  ['baggage with 5000 members', '/', [`baggage: ${Array.from({ length: 5000 }, (_, i) => `k${i}=v`).join(',').slice(0, NEAR_LIMIT)}`]],
  ['huge baggage value', '/', [`baggage: k=${hex(NEAR_LIMIT, 'v')}`]],
  ['broken percent-encoding in baggage', '/', ['baggage: a=%zz,b=%,c=%e2%82,d=%ff%fe;p=%%', 'baggage: =x,==,;;;,k=v;prop']],
  ['binary baggage', '/', [`baggage: k=${binary}`]],
  ['b3 single malformed', '/', ['b3: 1', 'b3: a-b-c-d-e-f-g']],
  ['b3 single huge', '/', [`b3: ${hex(NEAR_LIMIT)}-${hex(16)}-1`]],
  ['b3 multi garbage', '/', [`x-b3-traceid: ${hex(64, 'f')}`, 'x-b3-spanid: xyz', 'x-b3-sampled: maybe', 'x-b3-flags: 9999999999']],
  ['uber-trace-id malformed', '/', ['uber-trace-id: ::::', 'uber-trace-id: a:b:c:d']],
  ['uber-trace-id huge and percent-encoded', '/', [`uber-trace-id: ${hex(NEAR_LIMIT / 2, 'f')}%3A${hex(16)}%3A0%3A1`]],
  ['uberctx baggage flood', '/', Array.from({ length: 200 }, (_, i) => `uberctx-k${i}: ${hex(40, 'v')}`)],
  ['everything at once', '/', [`traceparent: 00-${hex(32, 'e')}-${hex(16, 'f')}-01`, 'tracestate: a=1', 'baggage: u=1', `b3: ${hex(32, '1')}-${hex(16, '2')}-1`, `uber-trace-id: ${hex(32, '3')}:${hex(16, '4')}:0:1`]],
  ['huge URL', `/${hex(NEAR_LIMIT, 'p')}`, []],
  ['URL with broken escapes and secrets', '/a%zz/%?%zz=1&token=t0p&key=%&&&==', []],
  ['absolute-form URL with credentials', 'http://user:pass@example.com/x?password=p', []],
  ['asterisk-form', '*', []],
  ['double-slash path', '//evil.example/x', []],
  ['binary URL', `/${binary.slice(0, 50)}`, []],
];

/** Sends one raw request on its own connection; resolves with the status line's code (0 if closed). */
function raw(port: number, target: string, lines: string[]): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (d) => (head += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
    socket.end(Buffer.from(`GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`, 'latin1'));
  });
}

async function statuses(app: FixtureApp, rounds: number): Promise<{ codes: number[]; ms: number }> {
  const codes: number[] = [];
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    codes.push(...(await Promise.all(CASES.map(([, target, lines]) => raw(app.port, target, lines)))));
  }
  return { codes, ms: performance.now() - t0 };
}

t.test('hostile propagation headers and URLs: same answers, no crash, bounded work, valid spans', async (t) => {
  const ROUNDS = 20;
  const reference = await startApp(APP, { agent: false });
  const without = await statuses(reference, ROUNDS);
  await reference.destroy();

  const collector = await Collector.start();
  const app = await startApp(APP, {
    agent: true,
    env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '100', TRACING_PROPAGATION: 'tracecontext,baggage,b3,b3multi,jaeger', TRACING_EXPORT_BAGGAGE: 'true' },
  });
  t.teardown(async () => {
    await app.destroy();
    await collector.close();
  });
  const withAgent = await statuses(app, ROUNDS);
  t.same(withAgent.codes, without.codes, `every one of ${CASES.length * ROUNDS} hostile requests answered as without the agent`);
  t.ok(without.codes.filter((c) => c === 200).length >= (CASES.length - 4) * ROUNDS, 'most hostile requests reach the app (Node\'s parser lets them through)');
  t.ok(withAgent.ms <= without.ms * 4 + 2000, `bounded work: ${withAgent.ms.toFixed(0)} ms vs ${without.ms.toFixed(0)} ms without the agent`);

  const served = withAgent.codes.filter((c) => c !== 0 && c !== 400 && c !== 431).length;
  const spans = await collector.waitForSpans(served, 15_000);
  t.equal(collector.decodeErrors.length, 0, 'every export decodes with the official OTLP definitions');
  const bad = spans.filter((s) =>
    !/^[0-9a-f]{32}$/.test(s.traceId) || /^0+$/.test(s.traceId) || !/^[0-9a-f]{16}$/.test(s.spanId) || /^0+$/.test(s.spanId) ||
    !(s.parentSpanId === '' || /^[0-9a-f]{16}$/.test(s.parentSpanId)) || s.traceState.length > 512 ||
    Object.keys(s.attributes).filter((k) => k.startsWith('baggage.')).length > 180);
  t.same(bad.map((s) => s.name + ' ' + s.traceId), [], `all ${spans.length} spans valid (ids, tracestate <= 512 chars, baggage <= 180 members)`);
  const urls = spans.map((s) => String(s.attributes['http.url'] ?? ''));
  t.notOk(urls.some((u) => u.includes('t0p') || u.includes('user:pass') || u.includes('password=p')), 'no secret from a hostile URL reached a span');
  const alive = await raw(app.port, '/', []);
  t.equal(alive, 200, 'the app still serves');
  t.notMatch(app.stderr, /internal error|uncaught|TypeError|RangeError/i, 'the agent reported no internal error');
});
