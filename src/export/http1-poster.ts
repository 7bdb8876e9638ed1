import net = require('node:net');
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { AttemptOutcome, CutOffSignal } from './retry.js';

// The OTLP/HTTP exporter's own transport for plain `http:` endpoints: one POST at a time per
// connection, written straight to a keep-alive `net.Socket`, the answer read just far enough to know
// its status and where it ends. Node's HTTP client costs several hundred microseconds of CPU per
// request on top of this (ClientRequest and IncomingMessage streams, the agent's bookkeeping, the
// parser's callbacks and events) — per batch, so ~1 µs per exported span at 512 spans a batch. The
// exporter needs none of it: it sends one kind of request and never reads the answer's body. This is
// also no `http` function at all, so no instrumentation can ever see an export.

/** Why a try failed: the same words Node's HTTP client uses where there is an equivalent. */
const HANG_UP = 'socket hang up';

/**
 * A body this large is written on the loop turn after the one that posts it. A batch of 512 server
 * spans is ~110 KB: sealing and sending it costs a saturated server ~0.7 ms of CPU in one turn, about
 * half of it JavaScript that runs once a batch (cold) and half the kernel's `writev` (on loopback the
 * sender's CPU also runs the collector's side of TCP), and every request in flight waits for the whole
 * turn: the sampled p99. With the write one turn later, the app's I/O is served between the two halves.
 * Still one write of the whole body: in pieces, each write cost the kernel again (more CPU per span).
 */
export const DEFERRED_WRITE_BYTES = 16 * 1024;

/** Header names the poster writes itself; a user's value for them would break the framing. */
const OWN_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

/** A failure to answer `retryable`/`unreachable` the way the HTTP sender reports one. */
function noAnswer(reason: string): AttemptOutcome {
  return { ok: false, retryable: true, unreachable: true, status: 0, reason };
}

/** What the sender makes of an answer (status → outcome); `retryAfter` is the raw header, if any. */
export type AnswerReader = (status: number, retryAfter: string | undefined, bodyWritten: boolean) => AttemptOutcome;

/**
 * Where `localhost` (the default endpoint's host) is tried first. net checks every host it connects to with
 * `isIP`, and for a name that runs its IPv6 regular expression, which V8 compiles at that first use (and to
 * machine code after a few more): ~20 M instructions, 5 - 15 ms of CPU on Node 20 and 4 - 9 on Node 24, in
 * the process's first connection by name, which in a short process is its exit's only one. An IPv4
 * address is matched by the small IPv4 expression first and never reaches it. RFC 6761 reserves `localhost`
 * for the loopback; when 127.0.0.1 refuses, the name is resolved as Node resolves it and, if it names another
 * address (a collector on `::1` only, a hosts file of its own), the try goes on by name; once an answer came
 * that way later connections go by name. When it names 127.0.0.1 alone (or nothing), the refusal stands:
 * no second connection, no second refusal. At exit the refusal stands at once, without the lookup: resolving
 * the name runs the same expression (`dns.lookup` checks it with `isIP` too) and then getaddrinfo, and most
 * hosts files also name `::1`, whose connection runs it again and is refused again — the collector-down exit
 * of the default endpoint, every short process's. A collector on `::1` alone is still reached while the
 * process runs (and by name at exit once it answered that way); a process whose only export is at its exit
 * reaches it with `http://[::1]:4318` as its endpoint (docs/configuration.md).
 */
const LOCALHOST_FIRST = '127.0.0.1';

/**
 * POSTs bodies to one `http:` URL over keep-alive connections (one idle connection kept, unref'd, so
 * it never holds the process open). Throws at construction when a header name or value is not valid
 * HTTP (the caller then keeps Node's client, which reports it per request as before).
 */
export class Http1Poster {
  private readonly host: string;
  private readonly port: number;
  /** Request line and every header but Content-Length, ending in `Content-Length: `. */
  private readonly head: string;
  private idle: Http1Connection | null = null;
  /** The idle connection closed by the server: made once, not a closure per exchange. */
  private readonly unparked = (conn: Http1Connection): void => {
    if (this.idle === conn) this.idle = null;
  };
  private closed = false;
  /** The address tried before the name (`LOCALHOST_FIRST` for `localhost`), or null: by name only. */
  private firstTry: string | null;
  /**
   * The most bytes a request head takes (Content-Length up to 16 digits, then the blank line): given that
   * much room before a body in its memory (`post`'s `headroom`), the head is written there and the request
   * goes out from the body's own memory, with no copy.
   */
  readonly headBytes: number;

  constructor(url: URL, headers: Readonly<Record<string, string>>) {
    if (url.protocol !== 'http:') throw new Error(`Http1Poster speaks plain http only, not ${url.protocol}`);
    // `URL.hostname` keeps an IPv6 literal's brackets; net.connect wants the bare address.
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port === '' ? 80 : Number(url.port);
    this.firstTry = this.host === 'localhost' ? LOCALHOST_FIRST : null;
    const lines = new Map<string, string>([['host', `Host: ${url.host}`]]);
    for (const [name, value] of Object.entries(headers)) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      const lower = name.toLowerCase();
      if (!OWN_HEADERS.has(lower)) lines.set(lower, `${name}: ${value}`);
    }
    lines.set('connection', 'Connection: keep-alive');
    this.head = `POST ${url.pathname}${url.search} HTTP/1.1\r\n${[...lines.values()].join('\r\n')}\r\nContent-Length: `;
    this.headBytes = this.head.length + 16 + 4;
  }

  /**
   * One try: resolves with the reader's outcome of the answer, or an `unreachable` outcome (refused,
   * reset, closed before an answer, no answer within `timeoutMs` of silence, cut off). Never rejects.
   * `headroom`: bytes just before `body` in its memory that are the caller's to give (an encoded batch's
   * room for its framing); when the head fits there it is written there (again at each write: the same
   * bytes) instead of head and body being copied into a new buffer.
   */
  post(body: Buffer, timeoutMs: number, cutOff: CutOffSignal, read: AnswerReader, headroom = 0): Promise<AttemptOutcome> {
    const answered = new Promise<AttemptOutcome>(takeResolve);
    const resolve = taken!;
    taken = null;
    if (this.closed) {
      resolve(noAnswer('the exporter was shut down'));
      return answered;
    }
    const post = new Post(`${this.head}${body.length}\r\n\r\n`, body, headroom, timeoutMs, cutOff, read, resolve);
    const idle = this.idle;
    this.idle = null;
    if (idle !== null && idle.usable()) idle.exchange(post, true);
    else {
      idle?.destroy();
      this.connect().exchange(post, false);
    }
    return answered;
  }

  /**
   * Where a connection reports how `post`'s exchange on it ended; the poster's own. `stale`: failed before
   * any answer because the server had closed or reset the connection. `refused`: the connection was refused
   * (ECONNREFUSED).
   * @internal
   */
  ended(post: Post, conn: Http1Connection, outcome: AttemptOutcome, reusable: boolean, stale: boolean, refused: boolean): void {
    const cutOff = post.cutOff;
    // A kept-alive connection the server had closed meanwhile (reset or closed before any byte
    // of an answer) says nothing about the collector: the try goes again once on a new one.
    if (post.reused && stale && !cutOff.aborted && !this.closed) {
      this.connect().exchange(post, false);
      return;
    }
    // 127.0.0.1 refused `localhost`: while the process runs, the same try goes on by name if the name
    // leads elsewhere; at exit the refusal stands (see LOCALHOST_FIRST).
    if (refused && conn.firstTry && cutOff.atExit !== true && !cutOff.aborted && !this.closed) {
      conn.destroy();
      (require('node:dns') as typeof import('node:dns')).lookup(this.host, { all: true }, (err, addresses) => {
        const elsewhere = err === null && addresses.some((a) => a.address !== LOCALHOST_FIRST);
        if (elsewhere && !cutOff.aborted && !this.closed) this.connect(true).exchange(post, false);
        else post.resolve(outcome);
      });
      return;
    }
    // Answered by name after the first address had refused: by name from now on.
    if (!conn.firstTry && outcome.status !== 0 && this.firstTry !== null) this.firstTry = null;
    if (reusable && !this.closed && this.idle === null) {
      this.idle = conn;
      conn.parked(this.unparked);
    } else {
      conn.destroy();
    }
    post.resolve(outcome);
  }

  /** Closes the idle connection; later posts fail at once. A post in progress finishes. */
  close(): void {
    this.closed = true;
    this.idle?.destroy();
    this.idle = null;
  }

  private connect(byName = false): Http1Connection {
    const first = byName ? null : this.firstTry;
    // `noDelay` as an option rather than `setNoDelay()`: net applies it at connect from code it runs anyway,
    // where the method is one more of Node's functions to compile in a process whose first export is its
    // exit's (docs/performance.md, issue 21, round thirteen).
    const conn: Http1Connection = new Http1Connection(this, net.connect({
      host: first ?? this.host,
      port: this.port,
      noDelay: true,
      onread: { buffer: answerBuffer, callback: (length: number): boolean => conn.onData(answerBuffer.toString('latin1', 0, length)) },
    }), first !== null);
    return conn;
  }
}

/**
 * One `post`: its request, and where its end goes, over the one or two connections it takes (a kept-alive
 * one the server had closed, then a new one). One object per batch, where closures (the promise's
 * executor, a starter and an end handler per connection) were three.
 */
class Post {
  /** Tried on a kept-alive connection (the one it is on now). */
  reused = false;
  constructor(
    readonly head: string,
    readonly body: Buffer,
    readonly headroom: number,
    readonly timeoutMs: number,
    readonly cutOff: CutOffSignal,
    readonly read: AnswerReader,
    readonly resolve: (outcome: AttemptOutcome) => void,
  ) {}
}

/** The resolve function of the promise `post` is making: a module function as its executor, no closure. */
let taken: ((outcome: AttemptOutcome) => void) | null = null;
function takeResolve(resolve: (outcome: AttemptOutcome) => void): void {
  taken = resolve;
}

const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE']);
/** The abort listener's options: one object, not one per exchange. */
const ONCE = { once: true } as const;

/**
 * Where every connection's answers are read (net's `onread`): one buffer for all, as each read is turned
 * into text before the next can come. Read this way the answer never goes through the socket's Readable
 * side ('data' events, `resume`/`flow`/`read`, a Buffer per read): those functions are compiled for the
 * app's own sockets, and a client socket of another map sent them back to the interpreter and through the
 * compilers again (docs/performance.md, "Where the memory goes", round fourteen). An answer is a few
 * hundred bytes; a longer one comes in several reads.
 */
const answerBuffer = Buffer.allocUnsafe(4096);

const enum Body {
  /** Still reading the status line and headers. */
  Head,
  /** `remaining` bytes of a Content-Length body. */
  Length,
  /** Chunked: a chunk-size line next. */
  ChunkSize,
  /** Chunked: `remaining` bytes of chunk data and its CRLF. */
  ChunkData,
  /** Chunked: trailer lines up to an empty one. */
  Trailer,
  /** No length given: the body ends when the server closes the connection. */
  UntilClose,
}

/**
 * One socket and the exchange on it, if any. Response text is read as latin1 (one char per byte), each chunk
 * converted as it comes: no `setEncoding`, whose string decoder (four of Node's functions compiled, a
 * decoder allocated per connection) buys nothing for a one-byte encoding.
 */
class Http1Connection {
  private readonly socket: net.Socket;
  private dead = false;
  /** The exchange on this connection: the request, and where its end goes (`Http1Poster.ended`). */
  private post: Post | null = null;
  private onIdleClose: ((conn: Http1Connection) => void) | null = null;
  private text = '';
  private state = Body.Head;
  private remaining = 0;
  private status = 0;
  private retryAfter: string | undefined = undefined;
  private keepAlive = true;
  private bodyWritten = false;
  /** The request is waiting for the connection to open. */
  private waiting = false;
  /** The request waiting for its turn to be written (a large body), or null. */
  private deferred: NodeJS.Immediate | null = null;
  private readonly writeDeferred = (): void => {
    this.deferred = null;
    // The exchange ended meanwhile (the exit's cut-off, an error): nothing to write.
    if (this.post === null || this.dead) return;
    this.writeNow();
  };
  private readonly onBodyWritten = (err?: Error | null): void => {
    if (err === null || err === undefined) this.bodyWritten = true;
  };
  private answered = false;
  private readonly onAbort = (): void => this.fail('no answer before the exit deadline');
  /**
   * The try's deadline of silence: a timer of its own, restarted by each read, rather than the socket's
   * `setTimeout`, whose stream bookkeeping (`setStreamTimeout`, a timer refreshed per write and read) is
   * more of Node's functions compiled for the app's sockets and sent back by this one. One per connection,
   * restarted (`refresh()`) by each exchange rather than made and cleared per batch: after an exchange it is
   * left to fire once, for nothing (`fail` finds no exchange), while the connection idles.
   */
  private silence: NodeJS.Timeout | null = null;
  private silenceMs = 0;
  private readonly onSilence = (): void => {
    if (this.post !== null) this.fail(`no answer within ${this.post.timeoutMs} ms`);
  };

  /** `firstTry`: made to the address tried before the name (see LOCALHOST_FIRST). */
  constructor(private readonly poster: Http1Poster, socket: net.Socket, readonly firstTry = false) {
    this.socket = socket;
    socket.unref();
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.message, STALE_ERRORS.has(err.code ?? ''), err.code === 'ECONNREFUSED'));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onEnd());
    socket.on('connect', () => {
      const waiting = this.waiting;
      this.waiting = false;
      if (waiting && this.post !== null) this.writeRequest();
    });
  }

  /**
   * Open and idle. Our own flag (every way a socket ends comes through `destroy`, 'end', 'close' or an
   * error here) rather than the socket's `destroyed`/`readyState` getters, which are compiled for the app's
   * sockets: read on this one they were sent back to the interpreter ("wrong map").
   */
  usable(): boolean {
    return !this.dead;
  }

  /** Starts `post` on this connection (`reused`: a kept-alive one). */
  exchange(post: Post, reused: boolean): void {
    post.reused = reused;
    this.onIdleClose = null;
    this.post = post;
    const { cutOff, timeoutMs } = post;
    this.text = '';
    this.state = Body.Head;
    this.status = 0;
    this.retryAfter = undefined;
    this.keepAlive = true;
    this.bodyWritten = false;
    this.answered = false;
    if (cutOff.aborted) {
      this.fail('no answer before the exit deadline');
      return;
    }
    cutOff.addEventListener('abort', this.onAbort, ONCE);
    const socket = this.socket;
    if (this.silence !== null && this.silenceMs === timeoutMs) this.silence.refresh();
    else {
      // A try at exit has a shorter deadline: its own timer.
      if (this.silence !== null) clearTimeout(this.silence);
      this.silence = setTimeout(this.onSilence, timeoutMs);
      this.silence.unref();
      this.silenceMs = timeoutMs;
    }
    // On a new connection the request waits for 'connect': written while connecting, net would hold
    // it and, when the connection is refused, fail the write with a second error (and Node's streams
    // format each error's stack trace) on top of the refusal itself — work for nothing on the path of
    // a collector that is down, which is every exit of a process on a machine without one.
    // (One 'connect' listener for the socket's life, set in the constructor: no `once` wrapper to remove.)
    if (socket.connecting) this.waiting = true;
    else this.writeRequest();
  }

  private writeRequest(): void {
    if (this.post!.body.length < DEFERRED_WRITE_BYTES) {
      this.writeNow();
      return;
    }
    // Unref'd like the socket: a request waiting to be written never holds the process open by itself.
    this.deferred = setImmediate(this.writeDeferred);
    this.deferred.unref();
  }

  /**
   * Head and body in one buffer, one `write`: the kernel sees one write either way (corked, two writes
   * went out as one `writev`), but corked writes of a string and a buffer on this socket (a client
   * socket, of another map than the server's) sent Node's `writev` path (`Writable.uncork`,
   * `clearBuffer`, `Socket._writev`, `writevGeneric`, `doWrite`, `onwrite`), compiled for the app's
   * server sockets, back to the interpreter ("wrong map") and through the compilers again: ~5
   * deoptimisations of the ~12 the agent added in a Node 24 server's first 20,000 requests
   * (docs/performance.md, "Where the memory goes", round twelve, deopt room). The copy is one `memcpy`
   * of the batch (~110 KB for 512 spans), once per batch, by `Uint8Array#set` (V8's own) rather than
   * `Buffer#copy`, three of Node's functions to compile in a process whose first export is at its exit.
   * With room before the body (an encoded batch's: `Http1Poster.post`), no copy and no new buffer at all:
   * the head is written into that room and the request goes from the batch's memory — no ~110 KB buffer
   * allocated outside the heap, filled and freed by a later scavenge, per batch.
   */
  private writeNow(): void {
    const { head, body, headroom } = this.post!;
    let whole: Buffer;
    if (head.length <= headroom) {
      whole = Buffer.from(body.buffer, body.byteOffset - head.length, head.length + body.length);
      // latin1: one byte per char (header names and values are validated, none above \xff).
      whole.write(head, 0, 'latin1');
    } else {
      whole = Buffer.allocUnsafe(head.length + body.length);
      whole.set(body, whole.write(head, 0, 'latin1'));
    }
    this.socket.write(whole, this.onBodyWritten);
  }

  /** Kept for the next exchange: `gone` runs if the server closes it meanwhile. */
  parked(gone: (conn: Http1Connection) => void): void {
    this.onIdleClose = gone;
  }

  destroy(): void {
    this.dead = true;
    this.socket.destroy();
    this.stopSilence();
  }

  /** The connection is done with: its timer would keep it (and the socket) until it fires. */
  private stopSilence(): void {
    if (this.silence !== null) {
      clearTimeout(this.silence);
      this.silence = null;
    }
  }

  /** Text read from the socket (see `answerBuffer`); true: reading goes on. */
  onData(chunk: string): boolean {
    if (this.post === null) {
      // Bytes nobody asked for: the connection is out of step, never reuse it.
      this.destroy();
      return true;
    }
    this.answered = true;
    this.text = this.text === '' ? chunk : this.text + chunk;
    try {
      this.parse();
    } catch (err) {
      this.fail(`unreadable answer: ${(err as Error).message}`);
    }
    // Silence counts from the last byte read, once the answer is not complete with it: an answer read whole
    // (nearly all of them) restarts no timer.
    if (this.post !== null) this.silence?.refresh();
    return true;
  }

  private parse(): void {
    for (;;) {
      const text = this.text;
      switch (this.state) {
        case Body.Head: {
          const end = text.indexOf('\r\n\r\n');
          if (end === -1) {
            if (text.length > 64 * 1024) throw new Error('header section too long');
            return;
          }
          this.text = text.slice(end + 4);
          this.readHead(text.slice(0, end));
          break;
        }
        case Body.Length: {
          const take = Math.min(this.remaining, text.length);
          this.remaining -= take;
          this.text = text.slice(take);
          if (this.remaining > 0) return;
          this.complete(this.keepAlive);
          return;
        }
        case Body.ChunkSize: {
          const eol = text.indexOf('\r\n');
          if (eol === -1) return;
          const size = Number.parseInt(text.slice(0, eol).split(';', 1)[0]!.trim(), 16);
          if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
          this.text = text.slice(eol + 2);
          if (size === 0) this.state = Body.Trailer;
          else {
            this.state = Body.ChunkData;
            this.remaining = size + 2;
          }
          break;
        }
        case Body.ChunkData: {
          const take = Math.min(this.remaining, text.length);
          this.remaining -= take;
          this.text = text.slice(take);
          if (this.remaining > 0) return;
          this.state = Body.ChunkSize;
          break;
        }
        case Body.Trailer: {
          const eol = text.indexOf('\r\n');
          if (eol === -1) return;
          this.text = text.slice(eol + 2);
          if (eol === 0) {
            this.complete(this.keepAlive);
            return;
          }
          break;
        }
        case Body.UntilClose:
          this.text = '';
          return;
      }
    }
  }

  private readHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]!);
    if (m === null) throw new Error('not an HTTP/1 status line');
    const status = Number(m[2]);
    // 1xx (100 Continue, 103 Early Hints) come before the real answer.
    if (status >= 100 && status < 200) return;
    this.status = status;
    this.keepAlive = m[1] === '1';
    let length = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') {
        const tokens = value.toLowerCase().split(',').map((v) => v.trim());
        if (tokens.includes('close')) this.keepAlive = false;
        else if (tokens.includes('keep-alive')) this.keepAlive = true;
      } else if (name === 'retry-after') this.retryAfter = value;
    }
    if (status === 204 || status === 304) {
      this.state = Body.Length;
      this.remaining = 0;
    } else if (chunked) this.state = Body.ChunkSize;
    else if (length >= 0 && Number.isSafeInteger(length)) {
      this.state = Body.Length;
      this.remaining = length;
    } else {
      this.state = Body.UntilClose;
      this.keepAlive = false;
    }
  }

  private onEnd(): void {
    this.dead = true;
    if (this.post === null) {
      this.stopSilence();
      const gone = this.onIdleClose;
      this.onIdleClose = null;
      gone?.(this);
      return;
    }
    if (this.state === Body.UntilClose) this.complete(false);
    else this.fail(HANG_UP, true);
  }

  private complete(reusable: boolean): void {
    const post = this.post;
    if (post === null) return;
    // Anything left over answers no request of ours: not reusable.
    const clean = reusable && this.text === '' && !this.dead;
    this.finishExchange();
    this.poster.ended(post, this, post.read(this.status, this.retryAfter, this.bodyWritten), clean, false, false);
  }

  private fail(reason: string, closedByPeer = false, refused = false): void {
    const post = this.post;
    if (post === null) return;
    const stale = closedByPeer && !this.answered;
    this.finishExchange();
    this.destroy();
    this.poster.ended(post, this, noAnswer(reason), false, stale, refused);
  }

  private finishExchange(): void {
    this.waiting = false;
    if (this.deferred !== null) {
      clearImmediate(this.deferred);
      this.deferred = null;
    }
    this.post?.cutOff.removeEventListener('abort', this.onAbort);
    this.post = null;
    this.text = '';
  }
}
