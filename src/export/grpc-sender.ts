import * as http2 from 'node:http2';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { suppressTracing } from '../util/suppress.js';
import {
  decodeGrpcMessage,
  formatGrpcTimeout,
  frameMessage,
  GRPC_PREFIX_BYTES,
  GrpcCode,
  grpcCodeFromHttpStatus,
  grpcCodeName,
  isRetryableGrpcCode,
  OTLP_GRPC_TRACES_PATH,
  readMessages,
  readPartialSuccess,
  retryDelayFromStatusDetails,
  writeFramePrefix,
} from './grpc-wire.js';
import { SDK_NAME, SDK_VERSION } from './resource.js';
import { positive, Retrier, type AttemptOutcome, type CutOffSignal, type PayloadSender, type RetryOptions, type SendResult } from './retry.js';

const gzipAsync = promisify(gzip);

/** How the OTLP/gRPC exporter reaches its collector. */
export interface GrpcSenderOptions extends RetryOptions {
  /** `http://host:port` (plaintext HTTP/2) or `https://host:port` (TLS); a path is ignored, as gRPC has its own. */
  url: string;
  /** Extra metadata (auth). Secret: never logged, never part of an error message. */
  headers?: Readonly<Record<string, string>>;
  compression?: 'gzip' | 'none';
  /** Deadline of one try, also sent as `grpc-timeout`. Default 10 s. */
  timeoutMs?: number;
  /** The RPC's `:path`; default the OTLP trace service's Export. */
  path?: string;
}

// Headers HTTP/2 forbids or that the protocol itself sets: a user's value for them would make the
// request throw (connection-specific) or break the call (content-type, te, grpc-*).
const RESERVED_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'content-type', 'content-length', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding']);
// A response larger than this is not read further: the answer we need (partial success) is tiny.
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends payloads as unary gRPC calls over one reused HTTP/2 connection (`node:http2`, loaded only
 * when this protocol is chosen). Retries what the OTLP specification calls transient (UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED with `RetryInfo`, ...) with the shared backoff, honouring a
 * server-given delay. Runs inside `suppressTracing`; the connection and timers are unref'd, so an
 * export never keeps the process alive.
 */
export class GrpcSender implements PayloadSender {
  readonly displayUrl: string;
  private readonly origin: string;
  private readonly path: string;
  private readonly baseHeaders: http2.OutgoingHttpHeaders;
  private readonly gzip: boolean;
  private readonly timeoutMs: number;
  private readonly retrier: Retrier;
  private session: http2.ClientHttp2Session | null = null;

  constructor(options: GrpcSenderOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported OTLP/gRPC URL scheme ${url.protocol} (use http:// or https://)`);
    this.origin = `${url.protocol}//${url.host}`;
    this.path = options.path ?? OTLP_GRPC_TRACES_PATH;
    this.displayUrl = `${this.origin} (gRPC ${this.path})`;
    this.gzip = options.compression === 'gzip';
    this.timeoutMs = positive(options.timeoutMs, 10_000);
    this.retrier = new Retrier({ ...options, timeoutMs: this.timeoutMs }, this.displayUrl);
    const headers: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const key = name.toLowerCase();
      if (key.startsWith(':') || RESERVED_HEADERS.has(key)) continue;
      headers[key] = value;
    }
    this.baseHeaders = {
      ...headers,
      [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
      [http2.constants.HTTP2_HEADER_PATH]: this.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
      // The OTLP specification asks exporters to identify themselves; a user's own value is kept.
      'user-agent': headers['user-agent'] ?? `${SDK_NAME}/${SDK_VERSION} (OTLP/gRPC over node:http2)`,
    };
    if (this.gzip) this.baseHeaders['grpc-encoding'] = 'gzip';
  }

  /** Sends `payload` as one Export call. Never rejects. */
  async send(payload: Buffer, headroom = 0): Promise<SendResult> {
    if (!this.gzip && headroom >= GRPC_PREFIX_BYTES) {
      // The prefix goes into the room the encoder left before the message: no copy of the body.
      const frame = Buffer.from(payload.buffer, payload.byteOffset - GRPC_PREFIX_BYTES, payload.length + GRPC_PREFIX_BYTES);
      writeFramePrefix(frame, payload.length, false);
      return this.retrier.run((timeoutMs, cutOff) => this.attempt(frame, timeoutMs, cutOff));
    }
    let message = payload;
    if (this.gzip) {
      try {
        message = await gzipAsync(payload);
      } catch (err) {
        return { ok: false, attempts: 0, status: GrpcCode.INTERNAL, reason: `gzip failed: ${(err as Error).message}` };
      }
    }
    const frame = frameMessage(message, this.gzip);
    const result = await this.retrier.run((timeoutMs, cutOff) => this.attempt(frame, timeoutMs, cutOff));
    // What went out is a framed copy: the payload itself is no longer read.
    result.payloadFree = true;
    return result;
  }

  beginExit(deadline: number): void {
    this.retrier.beginExit(deadline);
  }

  outage(): string | null {
    return this.retrier.outage();
  }

  outageTiming(): string | null {
    return this.retrier.outageTiming();
  }

  /** Stops retrying (a try in progress finishes) and closes the connection once it is idle. */
  shutdown(): void {
    this.retrier.stop();
    const session = this.session;
    this.session = null;
    if (session !== null && !session.destroyed) session.close();
  }

  private connection(): http2.ClientHttp2Session {
    const current = this.session;
    if (current !== null && !current.closed && !current.destroyed) return current;
    const session = suppressTracing(() => http2.connect(this.origin));
    // A session error (refused, reset, TLS) also fails its streams, which report it; this listener only
    // keeps it from being thrown, and makes the next try open a fresh connection.
    const forget = (): void => {
      if (this.session === session) this.session = null;
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    this.session = session;
    return session;
  }

  private attempt(frame: Buffer, timeoutMs: number, cutOff: CutOffSignal): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | null = null;
      let onCutOff: (() => void) | null = null;
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        if (timer !== null) clearTimeout(timer);
        if (onCutOff !== null) cutOff.removeEventListener('abort', onCutOff);
        resolve(outcome);
      };
      const fail = (code: number, detail: string, retryAfterMs = 0, hasRetryInfo = false): void =>
        finish({ ok: false, retryable: isRetryableGrpcCode(code, hasRetryInfo), status: code, reason: `gRPC ${grpcCodeName(code)}${detail === '' ? '' : `: ${detail}`}`, retryAfterMs });
      // No answer at all (refused, DNS, reset, deadline, cut off at the exit deadline): at exit this
      // ends the flush for every other batch too.
      const unreachable = (code: number, detail: string): void =>
        finish({ ok: false, retryable: true, unreachable: true, status: code, reason: `gRPC ${grpcCodeName(code)}: ${detail}` });
      suppressTracing(() => {
        let stream: http2.ClientHttp2Stream;
        try {
          stream = this.connection().request({ ...this.baseHeaders, 'grpc-timeout': formatGrpcTimeout(timeoutMs) });
        } catch (err) {
          // Node's message may quote a header value (a secret): only its code is safe to show.
          fail(GrpcCode.INTERNAL, `request failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
          return;
        }
        timer = setTimeout(() => {
          unreachable(GrpcCode.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`);
          stream.close(http2.constants.NGHTTP2_CANCEL);
        }, timeoutMs);
        timer.unref();
        onCutOff = () => {
          unreachable(GrpcCode.DEADLINE_EXCEEDED, 'no answer before the exit deadline');
          stream.close(http2.constants.NGHTTP2_CANCEL);
        };
        if (cutOff.aborted) onCutOff();
        else cutOff.addEventListener('abort', onCutOff, { once: true });

        let httpStatus = 0;
        let headerStatus: http2.IncomingHttpHeaders | null = null;
        let trailers: http2.IncomingHttpHeaders | null = null;
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('response', (headers) => {
          httpStatus = Number(headers[':status']);
          // "Trailers-only": the status arrives with the headers, as for an immediate error.
          if (headers['grpc-status'] !== undefined) headerStatus = headers;
        });
        stream.on('trailers', (t) => (trailers = t));
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        stream.on('error', (err: NodeJS.ErrnoException) => unreachable(GrpcCode.UNAVAILABLE, connectionProblem(err)));
        stream.on('close', () => {
          const meta = trailers ?? headerStatus;
          if (meta === null) {
            if (httpStatus !== 0 && httpStatus !== 200) return fail(grpcCodeFromHttpStatus(httpStatus), `HTTP ${httpStatus} without a gRPC status`);
            const rst = stream.rstCode;
            if (rst === http2.constants.NGHTTP2_REFUSED_STREAM) return fail(GrpcCode.UNAVAILABLE, 'the collector refused the stream');
            if (rst === http2.constants.NGHTTP2_CANCEL) return fail(GrpcCode.CANCELLED, 'the stream was cancelled');
            return fail(httpStatus === 0 ? GrpcCode.UNAVAILABLE : GrpcCode.INTERNAL, httpStatus === 0 ? 'the connection closed before an answer' : 'the answer carried no gRPC status');
          }
          const code = Number(meta['grpc-status']);
          if (!Number.isInteger(code)) return fail(GrpcCode.UNKNOWN, `unreadable grpc-status "${String(meta['grpc-status'])}"`);
          if (code !== GrpcCode.OK) {
            const delay = retryDelayFromStatusDetails(headerValue(meta['grpc-status-details-bin']));
            const message = decodeGrpcMessage(headerValue(meta['grpc-message'])).slice(0, 300);
            return fail(code, message, delay ?? 0, delay !== null);
          }
          // The stream's 'finish' came once the whole frame was handed to the connection.
          const outcome: AttemptOutcome = { ok: true, retryable: false, status: GrpcCode.OK, reason: '', bodyWritten: stream.writableFinished };
          const partial = partialSuccessOf(chunks);
          if (partial !== null && partial.spans > 0) outcome.rejected = partial;
          finish(outcome);
        });
        stream.end(frame);
      });
    });
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function partialSuccessOf(chunks: Buffer[]): { spans: number; message: string } | null {
  try {
    const messages = readMessages(Buffer.concat(chunks));
    const first = messages[0];
    // We accept only identity responses; a compressed one is skipped rather than guessed at.
    if (first === undefined || first.compressed) return null;
    return readPartialSuccess(first.bytes);
  } catch {
    return null;
  }
}

function connectionProblem(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'host not found';
  if (err.code === 'ERR_HTTP2_ERROR' || err.code === 'ERR_HTTP2_SESSION_ERROR' || err.code === 'ERR_HTTP2_STREAM_ERROR') {
    return `HTTP/2 failed (${err.message}); is this an OTLP/gRPC endpoint (usually port 4317)?`;
  }
  return err.message;
}
