import { EventEmitter } from 'node:events';
import http = require('node:http');
import { promisify } from 'node:util';
import { unwrapped } from '../agent/wrap.js';
import { suppressTracingSync } from '../util/suppress.js';
import { log } from '../util/log.js';
import { Http1Poster } from './http1-poster.js';
import { positive, Retrier, type AttemptOutcome, type CutOffSignal, type PayloadSender, type RetryOptions, type SendResult } from './retry.js';

// zlib (~4 ms of CPU to load under load) only for TRACING_EXPORTER_COMPRESSION=gzip; the default is none.
let gzipAsync: ((input: Buffer) => Promise<Buffer>) | null = null;
function gzipBody(input: Buffer): Promise<Buffer> {
  gzipAsync ??= promisify((require('node:zlib') as typeof import('node:zlib')).gzip);
  return gzipAsync(input);
}

// The exporter's own requests never run through our wrappers (request, get, ClientRequest's emit) at
// all, instead of running them only to be told that tracing is suppressed. It loads with the processor,
// at the first finished span, after the instrumentations patched `http`: so the function under them.
const requestHttp = unwrapped(http.request);
// `https` (and `tls` under it: ~30 ms of CPU to load on Node 24) only for an https endpoint, required
// by the first secure sender; its `request` taken from under our wrappers too, as above.
type Transport = { request: typeof http.request; Agent: typeof http.Agent; globalAgent: http.Agent };
let secure: Transport | null = null;
function httpsModule(): Transport {
  if (secure === null) {
    const https = require('node:https') as typeof import('node:https');
    secure = { request: unwrapped(https.request), Agent: https.Agent, globalAgent: https.globalAgent };
  }
  return secure;
}

/**
 * The environment Node's own HTTP client takes its proxy from, or undefined when it takes none: Node 24+
 * with NODE_USE_ENV_PROXY=1 (or --use-env-proxy) gives its global agents a `proxyEnv`, and an agent
 * built with that option goes through HTTP_PROXY / HTTPS_PROXY and honours NO_PROXY. On lines that do
 * not (20, 22), the app's own requests go direct, and so do the exporter's.
 */
function proxyEnvOf(transport: Transport): NodeJS.ProcessEnv | undefined {
  const options = (transport.globalAgent as unknown as { options?: { proxyEnv?: NodeJS.ProcessEnv } } | undefined)?.options;
  const env = options?.proxyEnv;
  return env !== null && typeof env === 'object' ? env : undefined;
}

/** Whether a proxy is named for this scheme (Node's agent then decides, by NO_PROXY, whether it applies). */
function proxyNamed(protocol: string, env: NodeJS.ProcessEnv): boolean {
  const named = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';
  return protocol === 'https:' ? named(env.HTTPS_PROXY) || named(env.https_proxy) : named(env.HTTP_PROXY) || named(env.http_proxy);
}
const plainEmit = EventEmitter.prototype.emit;

/** How an HTTP exporter reaches its backend. */
export interface HttpSenderOptions extends RetryOptions {
  url: string;
  contentType: string;
  /** Extra headers (auth). Secret: never logged, never part of an error message. */
  headers?: Readonly<Record<string, string>>;
  compression?: 'gzip' | 'none';
}

export type { SendResult } from './retry.js';

/**
 * POSTs payloads over a keep-alive connection, with the shared retry and exit policy (`Retrier`).
 * Uses the `http`/`https` functions as they were before any patch, inside `suppressTracingSync`, so the
 * agent never traces its own exports; its sockets and timers are unref'd, so an export in progress
 * never keeps the process alive.
 */
export class HttpSender implements PayloadSender {
  /** The endpoint without credentials or query, for log lines. */
  readonly displayUrl: string;
  private readonly url: URL;
  private readonly request: typeof http.request;
  private readonly agent: http.Agent;
  private readonly baseHeaders: Record<string, string>;
  private readonly gzip: boolean;
  private readonly retrier: Retrier;
  /** The exporter's own HTTP/1.1 transport for `http:` endpoints; null for `https:` and through a proxy (Node's client). */
  private readonly poster: Http1Poster | null;
  /** Node's client would send through a proxy (NODE_USE_ENV_PROXY with HTTP_PROXY/HTTPS_PROXY set). */
  readonly viaProxy: boolean;
  /** See `PayloadSender.framingBytes`: the poster's request head; none through Node's client or with gzip. */
  readonly framingBytes: number;
  private readonly readAnswer = (status: number, retryAfter: string | undefined, bodyWritten: boolean): AttemptOutcome => {
    const ok = status >= 200 && status < 300;
    const retryable = status === 429 || status >= 500;
    return { ok, retryable, status, reason: ok ? '' : `HTTP ${status}`, retryAfterMs: retryable ? parseRetryAfter(retryAfter) : 0, bodyWritten };
  };

  constructor(options: HttpSenderOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`unsupported exporter URL scheme ${this.url.protocol}`);
    this.displayUrl = `${this.url.protocol}//${this.url.host}${this.url.pathname}`;
    const transport: Transport = this.url.protocol === 'https:' ? httpsModule() : { request: requestHttp, Agent: http.Agent, globalAgent: http.globalAgent };
    this.request = transport.request;
    const proxyEnv = proxyEnvOf(transport);
    // Through a proxy, Node's client (with an agent that has the proxy settings) does the request: the
    // poster only speaks straight to the collector.
    this.viaProxy = proxyEnv !== undefined && proxyNamed(this.url.protocol, proxyEnv);
    this.agent = new transport.Agent({ keepAlive: true, maxSockets: 2, ...(proxyEnv === undefined ? {} : { proxyEnv }) } as http.AgentOptions);
    this.gzip = options.compression === 'gzip';
    this.retrier = new Retrier({ ...options, timeoutMs: positive(options.timeoutMs, 10_000) }, this.displayUrl);
    this.baseHeaders = { ...(options.headers ?? {}), 'content-type': options.contentType };
    if (this.gzip) this.baseHeaders['content-encoding'] = 'gzip';
    this.poster = this.url.protocol === 'http:' && !this.viaProxy ? posterFor(this.url, this.baseHeaders) : null;
    this.framingBytes = this.poster === null || this.gzip ? 0 : this.poster.headBytes;
  }

  /**
   * Sends `body`, retrying network errors, 429 and 5xx. Never rejects. `headroom`: bytes before the
   * payload in its memory the request head may be written into (see `PayloadSender.send`).
   */
  send(payload: Buffer, headroom = 0): Promise<SendResult> {
    // Not an async function: the retry loop's promise is the answer (no second promise per batch).
    if (this.gzip) return this.sendGzipped(payload);
    return this.retrier.run((timeoutMs, cutOff) => this.attempt(payload, timeoutMs, cutOff, headroom));
  }

  private async sendGzipped(payload: Buffer): Promise<SendResult> {
    let body: Buffer;
    try {
      body = await gzipBody(payload);
    } catch (err) {
      return { ok: false, attempts: 0, status: 0, reason: `gzip failed: ${(err as Error).message}` };
    }
    // What goes out is the compressed copy: the payload itself is no longer read.
    const result = await this.retrier.run((timeoutMs, cutOff) => this.attempt(body, timeoutMs, cutOff));
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

  /** Stops retrying (a try in progress finishes) and closes idle sockets. */
  shutdown(): void {
    this.retrier.stop();
    this.poster?.close();
    this.agent.destroy();
  }

  private attempt(body: Buffer, timeoutMs: number, cutOff: CutOffSignal, headroom = 0): Promise<AttemptOutcome> {
    const poster = this.poster;
    if (poster !== null) return suppressTracingSync(() => poster.post(body, timeoutMs, cutOff, this.readAnswer, headroom));
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      // No answer at all (refused, DNS, reset, timeout, cut off at the exit deadline).
      const unreachable = (reason: string): void => finish({ ok: false, retryable: true, unreachable: true, status: 0, reason });
      suppressTracingSync(() => {
        let req: http.ClientRequest;
        try {
          const headers = { ...this.baseHeaders, 'content-length': String(body.length) };
          req = this.request(this.url, { method: 'POST', agent: this.agent, headers });
          req.emit = plainEmit;
        } catch (err) {
          unreachable(`request failed: ${(err as Error).message}`);
          return;
        }
        const onCutOff = (): void => {
          req.destroy(new Error('no answer before the exit deadline'));
        };
        if (cutOff.aborted) onCutOff();
        else cutOff.addEventListener('abort', onCutOff, { once: true });
        req.on('socket', unrefSocket);
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => {
          cutOff.removeEventListener('abort', onCutOff);
          unreachable(err.message);
        });
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          // Only a retryable answer's delay matters; `headers` is built on first access, so a 200 skips it.
          const retryAfterMs = status === 429 || status >= 500 ? parseRetryAfter(res.headers['retry-after']) : 0;
          const settle = (): void => {
            cutOff.removeEventListener('abort', onCutOff);
            const ok = status >= 200 && status < 300;
            // 'finish' has fired once the body's last byte went to the socket: the body is free then.
            finish({ ok, retryable: status === 429 || status >= 500, status, reason: ok ? '' : `HTTP ${status}`, retryAfterMs, bodyWritten: req.writableFinished });
          };
          res.on('error', settle);
          res.on('end', settle);
          res.resume();
        });
        req.end(body);
      });
    });
  }
}

function posterFor(url: URL, headers: Readonly<Record<string, string>>): Http1Poster | null {
  try {
    return new Http1Poster(url, headers);
  } catch (err) {
    // A header Node's client would refuse too: it keeps the request path, which reports it per try.
    log.debug(`exporter: ${(err as Error).message}; using Node's HTTP client`);
    return null;
  }
}

function unrefSocket(socket: { unref?: () => unknown }): void {
  // The agent re-refs a pooled socket each time it is handed out; this runs after that.
  if (typeof socket.unref === 'function') socket.unref();
}

/** `Retry-After` as delay-seconds or an HTTP date → milliseconds (0 when absent or unreadable). */
export function parseRetryAfter(value: string | string[] | undefined): number {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === '') return 0;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}
