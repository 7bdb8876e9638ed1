import type net = require('node:net');
import type { Http1Poster } from './http1-poster.js';
import { noAnswer, type Post } from './http1-post.js';

// The connection of the exporter's own HTTP/1.1 client (http1-poster.ts): one keep-alive socket, the
// request written to it and the answer read from it just far enough to know its status and where it ends.

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

const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE']);
/** The abort listener's options: one object, not one per exchange. */
const ONCE = { once: true } as const;

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
export class Http1Connection {
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

  /** `firstTry`: made to the address tried before the name (see LOCALHOST_FIRST in http1-poster.ts). */
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

  /** Text read from the socket (see `answerBuffer` in http1-poster.ts); true: reading goes on. */
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
