import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { suppressTracing } from '../util/suppress.js';

const gzipAsync = promisify(gzip);

/** How an HTTP exporter reaches its backend. */
export interface HttpSenderOptions {
  url: string;
  contentType: string;
  /** Extra headers (auth). Secret: never logged, never part of an error message. */
  headers?: Readonly<Record<string, string>>;
  compression?: 'gzip' | 'none';
  /** Per-attempt timeout; a backend that stops answering costs at most this per try. */
  timeoutMs?: number;
  /** Tries per batch, the first included. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubled each retry, with jitter. Default 500 ms. */
  initialBackoffMs?: number;
  /** Upper bound of one delay, `Retry-After` included. Default 30 s. */
  maxBackoffMs?: number;
}

/** What one `send` came to. */
export interface SendResult {
  ok: boolean;
  attempts: number;
  /** The last HTTP status, 0 when no response came (network error, timeout). */
  status: number;
  /** Why it failed, safe to log (no headers, no credentials). */
  reason: string;
}

/**
 * POSTs payloads with bounded retries. Uses Node's `http`/`https` directly, inside
 * `suppressTracing`, so the agent never traces its own exports; its sockets and timers are
 * unref'd, so an export in progress never keeps the process alive.
 */
export class HttpSender {
  private readonly url: URL;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly baseHeaders: Record<string, string>;
  private readonly gzip: boolean;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly wakeups = new Set<() => void>();
  private stopped = false;
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
    this.maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, 5)));
    this.initialBackoffMs = positive(options.initialBackoffMs, 500);
    this.maxBackoffMs = positive(options.maxBackoffMs, 30_000);
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
    let attempt = 0;
    let backoff = this.initialBackoffMs;
    for (;;) {
      attempt++;
      const outcome = await this.attempt(body);
      if (outcome.status >= 200 && outcome.status < 300) return { ok: true, attempts: attempt, status: outcome.status, reason: '' };
      const retryable = outcome.status === 0 || outcome.status === 429 || outcome.status >= 500;
      if (!retryable || attempt >= this.maxAttempts || this.stopped) {
        return { ok: false, attempts: attempt, status: outcome.status, reason: outcome.reason };
      }
      const jittered = backoff * (0.8 + Math.random() * 0.4);
      const delay = Math.min(this.maxBackoffMs, Math.max(jittered, outcome.retryAfterMs));
      await this.sleep(delay);
      backoff = Math.min(this.maxBackoffMs, backoff * 2);
    }
  }

  /** Stops retrying (a try in progress finishes) and closes idle sockets. */
  shutdown(): void {
    this.stopped = true;
    for (const wake of this.wakeups) wake();
    this.agent.destroy();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakeups.add(done);
    });
  }

  private attempt(body: Buffer): Promise<{ status: number; reason: string; retryAfterMs: number }> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (status: number, reason: string, retryAfterMs = 0): void => {
        if (settled) return;
        settled = true;
        resolve({ status, reason, retryAfterMs });
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

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
