import t, { type Test } from 'tap';
import * as diagnostics from 'node:diagnostics_channel';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { HttpSender } from '../../../src/export/http-sender.js';
import { DEFERRED_WRITE_BYTES } from '../../../src/export/http1-connection.js';
import { Http1Poster } from '../../../src/export/http1-poster.js';

// The OTLP/HTTP exporter's own HTTP/1.1 transport, against a raw TCP server that answers each request
// however a test scripts it: every framing a collector or a proxy in front of it may use.

interface Received {
  head: string;
  body: string;
  connection: number;
}

type Answer = (r: Received, socket: net.Socket, index: number) => void;

async function rawServer(answer: Answer, host = '127.0.0.1'): Promise<{ url: string; received: Received[]; connections: () => number; close: () => void }> {
  const received: Received[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setEncoding('latin1');
    let text = '';
    socket.on('data', (chunk: string) => {
      text += chunk;
      for (;;) {
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = text.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
        const r = { head, body: text.slice(end + 4, end + 4 + length), connection };
        text = text.slice(end + 4 + length);
        received.push(r);
        answer(r, socket, received.length);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1/traces?tenant=a`,
    received,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const fast = { initialBackoffMs: 5, maxBackoffMs: 50, timeoutMs: 1000 };
const body = (n = 100): Buffer => Buffer.alloc(n, 'x');

t.test('one keep-alive connection for consecutive posts; the request is well formed', async (t) => {
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 3\r\n\r\nabc'));
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, url: server.url, contentType: 'application/x-protobuf', headers: { Authorization: 'Bearer s3cret', 'Content-Length': '1' } });
  t.teardown(() => sender.shutdown());
  for (let i = 0; i < 5; i++) t.match(await sender.send(body(10 + i)), { ok: true, attempts: 1, status: 200, payloadFree: true });
  t.equal(server.connections(), 1, 'one connection for five posts');
  const first = server.received[0]!;
  t.match(first.head, /^POST \/v1\/traces\?tenant=a HTTP\/1\.1\r\n/);
  t.match(first.head, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  t.match(first.head, /\r\nAuthorization: Bearer s3cret\r\n/);
  t.match(first.head, /\r\ncontent-type: application\/x-protobuf\r\n/);
  t.equal(first.head.match(/content-length/gi)!.length, 1, "the user's Content-Length never doubles ours");
  t.match(first.head, /\r\nContent-Length: 10$/);
  t.equal(first.body, 'x'.repeat(10));
  t.same(server.received.map((r) => r.body.length), [10, 11, 12, 13, 14]);
});

/** A poster to a server that answers every request with an empty 200, both closed at the test's end. */
async function answeringPoster(t: Test): Promise<{ server: Awaited<ReturnType<typeof rawServer>>; poster: Http1Poster }> {
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(server.close);
  const poster = new Http1Poster(new URL(server.url), { 'content-type': 'application/x-protobuf' });
  t.teardown(() => poster.close());
  return { server, poster };
}

/** A cut-off signal that never fires. */
const NO_CUT_OFF = { aborted: false, addEventListener() {}, removeEventListener() {} };

/** The answer reader of these tests: ok below 300, never retried. */
const readOutcome = (status: number, _retryAfter: string | undefined, bodyWritten: boolean) => ({ ok: status < 300, retryable: false, status, reason: '', bodyWritten });

/** Every Buffer written to any socket until the test's end (the poster writes head and body as one). */
function bufferWrites(t: Test): Buffer[] {
  const writes: Buffer[] = [];
  const write = net.Socket.prototype.write;
  t.teardown(() => { net.Socket.prototype.write = write; });
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    if (Buffer.isBuffer(args[0])) writes.push(args[0]);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  return writes;
}

t.test('a large body is written whole on the next loop turn, a small one at once', async (t) => {
  const { server, poster } = await answeringPoster(t);
  // A kept-alive connection first: posting on it writes without waiting for 'connect'.
  t.match(await poster.post(body(10), 1000, NO_CUT_OFF, readOutcome), { ok: true, bodyWritten: true });
  const writes = bufferWrites(t);

  // Head and body go out as one buffer: one write of both (the head is what the server received before the blank line).
  const small = poster.post(body(DEFERRED_WRITE_BYTES - 1), 1000, NO_CUT_OFF, readOutcome);
  t.equal(writes.length, 1, 'a body under the threshold is written within post()');
  t.match(await small, { ok: true, bodyWritten: true });
  t.same(writes.map((b) => b.length), [server.received[server.received.length - 1]!.head.length + 4 + DEFERRED_WRITE_BYTES - 1], 'head and body in that one write');

  writes.length = 0;
  const big = Buffer.alloc(DEFERRED_WRITE_BYTES * 7 + 5);
  for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
  const posted = poster.post(big, 1000, NO_CUT_OFF, readOutcome);
  t.same(writes, [], 'nothing of a large body is written within post()');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(writes.length, 1, 'on the next turn, the whole body in one write');
  t.match(await posted, { ok: true, bodyWritten: true });
  const last = server.received[server.received.length - 1]!;
  t.same(writes.map((b) => b.length), [last.head.length + 4 + big.length], 'head and body in that one write');
  t.match(last.head, new RegExp(`\\r\\nContent-Length: ${big.length}$`));
  t.equal(last.body, big.toString('latin1'), 'every byte, in order');
  t.equal(server.connections(), 1, 'one kept-alive connection throughout');
});

t.test('with room before the body, the head goes there: one write from the body\'s own memory, no copy', async (t) => {
  const { server, poster } = await answeringPoster(t);
  t.match(await poster.post(body(10), 1000, NO_CUT_OFF, readOutcome), { ok: true });
  const writes = bufferWrites(t);

  for (const size of [100, DEFERRED_WRITE_BYTES * 7 + 5]) {
    const spare = 7;
    const memory = Buffer.alloc(poster.headBytes + spare + size, 0xee);
    const payload = memory.subarray(poster.headBytes + spare);
    for (let i = 0; i < size; i++) payload[i] = 97 + (i % 26);
    const expected = payload.toString('latin1');
    writes.length = 0;
    t.match(await poster.post(payload, 1000, NO_CUT_OFF, readOutcome, poster.headBytes + spare), { ok: true, bodyWritten: true });
    const last = server.received[server.received.length - 1]!;
    t.equal(last.body, expected, `${size} bytes: every byte, in order`);
    t.match(last.head, new RegExp(`\\r\\nContent-Length: ${size}$`));
    t.equal(writes.length, 1, 'one write');
    t.equal(writes[0]!.buffer, memory.buffer, "from the body's memory");
    t.equal(writes[0]!.length, last.head.length + 4 + size, 'head and body');
    t.equal(payload.toString('latin1'), expected, 'the body is as it was');
    const untouched = memory.length - size - writes[0]!.length + size;
    t.ok(memory.subarray(0, untouched).every((b) => b === 0xee), 'nothing before the head is written');
  }

  // Too little room: head and body copied into a buffer of their own, as without room.
  const memory = Buffer.alloc(20 + 100, 0xee);
  const payload = memory.subarray(20);
  payload.fill(0x61);
  writes.length = 0;
  t.match(await poster.post(payload, 1000, NO_CUT_OFF, readOutcome, 20), { ok: true });
  t.equal(writes.length, 1);
  t.not(writes[0]!.buffer, memory.buffer, 'a copy');
  t.ok(memory.subarray(0, 20).every((b) => b === 0xee), 'the room too small for the head is left alone');
  t.equal(server.received[server.received.length - 1]!.body, 'a'.repeat(100));
});

t.test('cut off while a large body waits for its turn: nothing is written, the try fails', async (t) => {
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body(10)), { ok: true });
  const received = server.received.length;
  const sent = sender.send(Buffer.alloc(DEFERRED_WRITE_BYTES * 2));
  // The exit's deadline has already passed: the try in progress is cut off before its turn comes.
  sender.beginExit(Date.now() - 1);
  t.match(await sent, { ok: false });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(server.received.length, received, 'the collector got no part of it');
});

t.test('chunked answers, 1xx before the answer, answers split across packets', async (t) => {
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n');
    else {
      const answer = 'HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello';
      socket.write(answer.slice(0, 7));
      setTimeout(() => socket.write(answer.slice(7, 40)), 5);
      setTimeout(() => socket.write(answer.slice(40)), 10);
    }
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true, status: 200 });
  t.match(await sender.send(body()), { ok: true, status: 202 });
  t.match(await sender.send(body()), { ok: true, status: 202 });
  t.equal(server.connections(), 1, 'the connection stays usable after every framing');
});

t.test('an answer longer than one read, and one that trickles: silence is counted from the last byte', async (t) => {
  const long = 'y'.repeat(20_000);
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${long.length}\r\nX-Long: ${long}\r\n\r\n${long}`);
    else if (n === 2) {
      // 4 pieces 100 ms apart: 300 ms in all against a 250-ms deadline of silence (150 ms of slack per gap, so
      // a late timer on a loaded test machine does not read as silence).
      const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
      for (let i = 0; i < 4; i++) setTimeout(() => socket.write(answer.slice(i * 10, i === 3 ? undefined : i * 10 + 10)), i * 100);
    } else socket.write('HTTP/1.1 204 No Content\r\n\r\n');
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, timeoutMs: 250, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true, status: 200 }, 'a 40-KB answer, read in pieces');
  t.match(await sender.send(body()), { ok: true, status: 200 }, 'answered in 300 ms, never 250 ms silent');
  t.match(await sender.send(body()), { ok: true, status: 204 });
  t.equal(server.connections(), 1, 'the same connection throughout');
});

t.test('Connection: close and a body read to the end of the connection: a new connection next time', async (t) => {
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.end('HTTP/1.1 200 OK\r\n\r\nno length: ends with the connection');
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true });
  t.match(await sender.send(body()), { ok: true });
  t.match(await sender.send(body()), { ok: true });
  t.equal(server.connections(), 3);
});

t.test('statuses: 5xx retried with Retry-After read, 400 not retried', async (t) => {
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy');
    else if (n === 2) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    else socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, maxBackoffMs: 5000, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  const started = Date.now();
  t.match(await sender.send(body()), { ok: true, attempts: 2 });
  t.ok(Date.now() - started >= 900, 'waited for Retry-After: 1');
  t.match(await sender.send(body()), { ok: false, attempts: 1, status: 400, reason: 'HTTP 400' });
});

t.test('a kept-alive connection the server dropped meanwhile: the try goes again on a new one', async (t) => {
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    // The second request arrives on the old connection: reset it without a word.
    else if (n === 2) socket.resetAndDestroy();
    else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true });
  t.match(await sender.send(body()), { ok: true, attempts: 1 }, 'one try, on a second connection');
  t.equal(server.connections(), 2);
});

t.test('no answer, or garbage: the try fails with a reason, the connection is not reused', async (t) => {
  const server = await rawServer((_r, socket, n) => {
    if (n === 1) socket.write('SSH-2.0-OpenSSH\r\n\r\n');
    else if (n === 2) socket.destroy();
    else if (n === 3) return; // silence
    else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, timeoutMs: 100, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: false, reason: /unreadable answer/ });
  t.match(await sender.send(body()), { ok: false, reason: 'socket hang up' });
  t.match(await sender.send(body()), { ok: false, reason: 'no answer within 100 ms' });
  t.match(await sender.send(body()), { ok: true });
  t.equal(server.connections(), 4, 'a new connection after each failure');
});

t.test('refused: the reason names the error, as Node\'s client does', async (t) => {
  const server = await rawServer(() => {});
  server.close();
  await new Promise((r) => setTimeout(r, 20));
  const sender = new HttpSender({ ...fast, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf' });
  t.match(await sender.send(body()), { ok: false, status: 0, reason: /ECONNREFUSED/ });
});

t.test('refused: nothing is written to a connection that never opened (one error, not a second for the write)', async (t) => {
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(server.close);
  // Writes by the exporter's sockets: to the collector's port, or not connected yet (the server's own
  // sockets and the test runner's pipes write too).
  const collectorPort = Number(new URL(server.url).port);
  const writes: boolean[] = [];
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    if (this.connecting || this.remotePort === collectorPort) writes.push(this.connecting);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  t.teardown(() => {
    net.Socket.prototype.write = write;
  });
  const up = new HttpSender({ ...fast, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf' });
  t.match(await up.send(body()), { ok: true });
  t.same(writes, [false], 'head and body written (one write) once connected');
  const refused = await rawServer(() => {});
  refused.close();
  await new Promise((r) => setTimeout(r, 20));
  writes.length = 0;
  const down = new HttpSender({ ...fast, maxAttempts: 1, url: refused.url, contentType: 'application/x-protobuf' });
  t.match(await down.send(body()), { ok: false, status: 0, reason: /ECONNREFUSED/ });
  t.same(writes, [], 'no write queued on the refused connection');
});

// `localhost`, the default endpoint's host: connected at 127.0.0.1 without a name lookup (net's check of a name
// compiles a large regular expression, 5 - 15 ms of CPU in a short process's only connection); by name only
// when 127.0.0.1 refuses. Seen through the sockets net makes (the 'net.client.socket' channel): a socket
// connected by name emits 'lookup'.
function clientSockets(t: Test): Array<{ lookedUp: string | null }> {
  const made: Array<{ lookedUp: string | null }> = [];
  const onSocket = (message: unknown): void => {
    const entry = { lookedUp: null as string | null };
    made.push(entry);
    (message as { socket: net.Socket }).socket.on('lookup', (_err: Error | null, _address: string, _family: number, host: string) => {
      entry.lookedUp = host;
    });
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  t.teardown(() => diagnostics.unsubscribe('net.client.socket', onSocket));
  return made;
}

t.test('localhost: connected at 127.0.0.1 without a name lookup; the request still names localhost', async (t) => {
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(server.close);
  const port = new URL(server.url).port;
  const made = clientSockets(t);
  const sender = new HttpSender({ ...fast, url: `http://localhost:${port}/v1/traces`, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true, attempts: 1, status: 200 });
  t.match(await sender.send(body()), { ok: true, attempts: 1, status: 200 });
  t.equal(made.length, 1, 'one connection for both');
  t.equal(made[0]!.lookedUp, null, 'no name lookup');
  t.match(server.received[0]!.head, new RegExp(`\\r\\nHost: localhost:${port}\\r\\n`));
});

// Where localhost names another address too (::1 in many hosts files), the try then goes on by name; this
// machine's names 127.0.0.1 alone (checked below), so the refusal stands after one connection.
t.test('localhost: when 127.0.0.1 refuses, the name is resolved; naming 127.0.0.1 alone, the refusal stands', async (t) => {
  const named = await new Promise<string[]>((resolve, reject) => dns.lookup('localhost', { all: true }, (err, a) => (err ? reject(err) : resolve(a.map((x) => x.address)))));
  if (named.some((a) => a !== '127.0.0.1')) {
    t.skip(`localhost names ${named.join(', ')} here: the by-name branch, not this one`, () => {});
    return;
  }
  const closed = await rawServer(() => {});
  closed.close();
  await new Promise((r) => setTimeout(r, 20));
  const port = new URL(closed.url).port;
  const made = clientSockets(t);
  const sender = new HttpSender({ ...fast, maxAttempts: 1, url: `http://localhost:${port}/v1/traces`, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: false, attempts: 1, status: 0, reason: /ECONNREFUSED 127\.0\.0\.1:/ });
  t.same(made.map((m) => m.lookedUp), [null], 'one connection, to 127.0.0.1, and no second refusal');
});

// A hosts file that names ::1 for localhost too (most do; this machine's does not): dns.lookup, which net also
// calls for a name, answers so for the length of a test. The poster and net look it up on the module object.
function localhostAlsoNamesIpv6(t: Test): { lookups: () => number } {
  const dnsModule = require('node:dns') as typeof import('node:dns');
  const real = dnsModule.lookup;
  let lookups = 0;
  const addresses = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ];
  dnsModule.lookup = function (host: string, options: unknown, callback?: unknown): void {
    const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
    if (host !== 'localhost') return (real as (...a: unknown[]) => void).call(dnsModule, host, options, callback);
    lookups++;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    process.nextTick(() => (all ? cb(null, addresses) : cb(null, addresses[0]!.address, addresses[0]!.family)));
  } as unknown as typeof dnsModule.lookup;
  t.teardown(() => {
    dnsModule.lookup = real;
  });
  return { lookups: () => lookups };
}

// A server on ::1 whose port nothing holds on 127.0.0.1 (checked by binding it there and letting it go).
async function ipv6OnlyServer(t: Test): Promise<{ port: string; received: Received[] } | null> {
  for (let i = 0; i < 5; i++) {
    const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), '::1').catch(() => null);
    if (server === null) return null;
    const port = new URL(server.url).port;
    const v4Free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(Number(port), '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (v4Free) {
      t.teardown(server.close);
      return { port, received: server.received };
    }
    server.close();
  }
  return null;
}

t.test('localhost: a collector on ::1 alone is reached by name while the process runs, and kept to', async (t) => {
  const server = await ipv6OnlyServer(t);
  if (server === null) {
    t.skip('no IPv6 loopback here to listen on', () => {});
    return;
  }
  const names = localhostAlsoNamesIpv6(t);
  const sender = new HttpSender({ ...fast, maxAttempts: 1, url: `http://localhost:${server.port}/v1/traces`, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  t.match(await sender.send(body()), { ok: true, attempts: 1, status: 200 }, '127.0.0.1 refused, then ::1 by name, in one try');
  t.match(await sender.send(body()), { ok: true, attempts: 1, status: 200 });
  t.equal(server.received.length, 2);
  t.match(server.received[0]!.head, new RegExp(`\\r\\nHost: localhost:${server.port}\\r\\n`));
  t.ok(names.lookups() >= 1, 'the name was resolved after the refusal');
});

t.test('localhost: at exit a refusal at 127.0.0.1 ends the try, with no lookup and no second connection', async (t) => {
  const server = await ipv6OnlyServer(t);
  if (server === null) {
    t.skip('no IPv6 loopback here to listen on', () => {});
    return;
  }
  const names = localhostAlsoNamesIpv6(t);
  const made = clientSockets(t);
  const sender = new HttpSender({ ...fast, url: `http://localhost:${server.port}/v1/traces`, contentType: 'application/x-protobuf' });
  t.teardown(() => sender.shutdown());
  sender.beginExit(Date.now() + 2000);
  const started = Date.now();
  t.match(await sender.send(body()), { ok: false, status: 0, reason: /at exit.*ECONNREFUSED 127\.0\.0\.1:/ });
  t.ok(Date.now() - started < 1000, 'ended at once, not at the exit deadline');
  t.equal(names.lookups(), 0, 'no name lookup at exit');
  t.equal(made.length, 1, 'one connection');
  t.equal(server.received.length, 0);
});

t.test('cut off at the exit deadline', async (t) => {
  const server = await rawServer(() => {});
  t.teardown(server.close);
  const sender = new HttpSender({ ...fast, url: server.url, contentType: 'application/x-protobuf' });
  const pending = sender.send(body());
  await new Promise((r) => setTimeout(r, 20));
  sender.beginExit(Date.now() + 30);
  t.match(await pending, { ok: false, reason: /at exit: no answer before the exit deadline/ });
});

t.test('a header HTTP does not allow never reaches the wire', async (t) => {
  t.throws(() => new Http1Poster(new URL('http://127.0.0.1:1/'), { 'x-bad': 'a\r\nInjected: yes' }));
  t.throws(() => new Http1Poster(new URL('http://127.0.0.1:1/'), { 'bad name': 'a' }));
  t.throws(() => new Http1Poster(new URL('https://127.0.0.1:1/'), {}), /plain http only/);
  const server = await rawServer((_r, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.teardown(server.close);
  // The sender keeps Node's client for it, which refuses such a header on every try, as before.
  const sender = new HttpSender({ ...fast, maxAttempts: 1, url: server.url, contentType: 'application/x-protobuf', headers: { 'x-bad': 'a\r\nInjected: yes' } });
  t.match(await sender.send(body()), { ok: false, reason: /request failed: .*header/i });
  t.equal(server.received.length, 0);
});
