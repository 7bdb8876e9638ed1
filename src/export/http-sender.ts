import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { suppressTracing } from '../util/suppress.js';
import { positive, Retrier, type AttemptOutcome, type PayloadSender, type RetryOptions, type SendResult } from './retry.js';

const gzipAsync = promisify(gzip);

/** How an HTTP exporter reaches its backend. */
export interface HttpSenderOptions extends RetryOptions {
  url: string;
  contentType: string;
  /** Extra headers (auth). Secret: never logged, never part of an error message. */
  headers?: Readonly<Record<string, string>>;
  compression?: 'gzip' | 'none';
  /** Per-attempt timeout; a backend that stops answering costs at most this per try. */
  timeoutMs?: number;
}

export type { SendResult } from './retry.js';

/**
 * POSTs payloads with bounded retries. Uses Node's `http`/`https` directly, inside
 * `suppressTracing`, so the agent never traces its own exports; its sockets and timers are
 * unref'd, so an export in progress never keeps the process alive.
 */
export class HttpSender implements PayloadSender {
  private readonly url: URL;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly baseHeaders: Record<string, string>;
  private readonly gzip: boolean;
  private readonly timeoutMs: number;
  private readonly retrier: Retrier;
  /** The endpoint without credentials or query, for log lines. */
  readonly displayUrl: string;

  constructor(options: HttpSenderOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`unsupported exporter URL scheme ${this.url.protocol}`);
    this.displayUrl = `${this.url.protocol}//${this.url.host}${this.url.pathname}`;
    this.transport = this.url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 2 });
    this.gzip = options.compression === 'gzip';
    this.timeoutMs = positive(options.timeoutMs, 10_000);
    this.retrier = new Retrier(options);
    this.baseHeaders = { ...(options.headers ?? {}), 'content-type': options.contentType };
    if (this.gzip) this.baseHeaders['content-encoding'] = 'gzip';
  }

  /** Sends `body`, retrying network errors, 429 and 5xx. Never rejects. */
  async send(payload: Buffer): Promise<SendResult> {
    let body = payload;
    if (this.gzip) {
      try {
        body = await gzipAsync(payload);
      } catch (err) {
        return { ok: false, attempts: 0, status: 0, reason: `gzip failed: ${(err as Error).message}` };
      }
    }
    return this.retrier.run(() => this.attempt(body));
  }

  /** Stops retrying (a try in progress finishes) and closes idle sockets. */
  shutdown(): void {
    this.retrier.stop();
    this.agent.destroy();
  }

  private attempt(body: Buffer): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (status: number, reason: string, retryAfterMs = 0): void => {
        if (settled) return;
        settled = true;
        const ok = status >= 200 && status < 300;
        resolve({ ok, retryable: status === 0 || status === 429 || status >= 500, status, reason: ok ? '' : reason, retryAfterMs });
      };
      suppressTracing(() => {
        let req: http.ClientRequest;
        try {
          const headers = { ...this.baseHeaders, 'content-length': String(body.length) };
          req = this.transport.request(this.url, { method: 'POST', agent: this.agent, headers });
        } catch (err) {
          finish(0, `request failed: ${(err as Error).message}`);
          return;
        }
        req.on('socket', unrefSocket);
        req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
        req.on('error', (err) => finish(0, err.message));
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          res.on('error', () => finish(status, `HTTP ${status}`, retryAfterMs));
          res.on('end', () => finish(status, `HTTP ${status}`, retryAfterMs));
          res.resume();
        });
        req.end(body);
      });
    });
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
