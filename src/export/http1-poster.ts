import net = require('node:net');
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { AttemptOutcome, CutOffSignal } from './retry.js';
import { Http1Connection } from './http1-connection.js';
import { noAnswer, Post, type AnswerReader } from './http1-post.js';

export type { AnswerReader } from './http1-post.js';

// The OTLP/HTTP exporter's own transport for plain `http:` endpoints: one POST at a time per
// connection, written straight to a keep-alive `net.Socket`, the answer read just far enough to know
// its status and where it ends. Node's HTTP client costs several hundred microseconds of CPU per
// request on top of this (ClientRequest and IncomingMessage streams, the agent's bookkeeping, the
// parser's callbacks and events) — per batch, so ~1 µs per exported span at 512 spans a batch. The
// exporter needs none of it: it sends one kind of request and never reads the answer's body. This is
// also no `http` function at all, so no instrumentation can ever see an export.

/** Header names the poster writes itself; a user's value for them would break the framing. */
const OWN_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

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

/** The resolve function of the promise `post` is making: a module function as its executor, no closure. */
let taken: ((outcome: AttemptOutcome) => void) | null = null;
function takeResolve(resolve: (outcome: AttemptOutcome) => void): void {
  taken = resolve;
}

/**
 * Where every connection's answers are read (net's `onread`): one buffer for all, as each read is turned
 * into text before the next can come. Read this way the answer never goes through the socket's Readable
 * side ('data' events, `resume`/`flow`/`read`, a Buffer per read): those functions are compiled for the
 * app's own sockets, and a client socket of another map sent them back to the interpreter and through the
 * compilers again (docs/performance.md, "Where the memory goes", round fourteen). An answer is a few
 * hundred bytes; a longer one comes in several reads.
 */
const answerBuffer = Buffer.allocUnsafe(4096);
