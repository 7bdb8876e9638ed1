import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { suppressTracing } from '../util/suppress.js';
import { Delivery, type AttemptOutcome, type DeliveryOptions, type DeliveryResult, type Transport } from './delivery.js';

const gzipAsync = promisify(gzip);

// Captured when the exporter loads, which start() does before any instrumentation patches `http`:
// the exporter's own requests then never run through our wrappers (request, get, ClientRequest's
// emit) at all, instead of running them only to be told that tracing is suppressed.
const requestHttp = http.request;
const requestHttps = https.request;
const plainEmit = EventEmitter.prototype.emit;

/** How an HTTP exporter reaches its backend. */
export interface HttpSenderOptions extends Omit<DeliveryOptions, 'now'> {
  url: string;
  contentType: string;
  /** Extra headers (auth). Secret: never logged, never part of an error message. */
  headers?: Readonly<Record<string, string>>;
  compression?: 'gzip' | 'none';
}

/** What one `send` came to. */
export interface SendResult extends DeliveryResult {
  /** The last HTTP status, 0 when no response came (network error, timeout, not tried). */
  status: number;
}

/**
 * One POST per attempt over a keep-alive connection to the collector, classified for `Delivery`.
 * Sockets are unref'd, so an export in progress never keeps the process alive.
 */
export class HttpTransport implements Transport {
  readonly displayUrl: string;
  /** The status of the last answer, 0 when none came. */
  lastStatus = 0;
  private readonly url: URL;
  private readonly request: typeof http.request;
  private readonly agent: http.Agent;
  private readonly baseHeaders: Record<string, string>;

  constructor(url: string, contentType: string, headers: Readonly<Record<string, string>> = {}, gzipped = false) {
    this.url = new URL(url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`unsupported exporter URL scheme ${this.url.protocol}`);
    this.displayUrl = `${this.url.protocol}//${this.url.host}${this.url.pathname}`;
    const secure = this.url.protocol === 'https:';
    this.request = secure ? requestHttps : requestHttp;
    this.agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 2 });
    this.baseHeaders = { ...headers, 'content-type': contentType };
    if (gzipped) this.baseHeaders['content-encoding'] = 'gzip';
  }

  attempt(body: Uint8Array, timeoutMs: number, cutOff: AbortSignal): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: AttemptOutcome, status: number): void => {
        if (settled) return;
        settled = true;
        this.lastStatus = status;
        resolve(outcome);
      };
      suppressTracing(() => {
        let req: http.ClientRequest;
        try {
          const headers = { ...this.baseHeaders, 'content-length': String(body.byteLength) };
          req = this.request(this.url, { method: 'POST', agent: this.agent, headers });
          req.emit = plainEmit;
        } catch (err) {
          finish({ kind: 'unreachable', reason: `request failed: ${(err as Error).message}` }, 0);
          return;
        }
        const onCutOff = (): void => {
          req.destroy(new Error('no answer before the exit deadline'));
        };
        if (cutOff.aborted) onCutOff();
        else cutOff.addEventListener('abort', onCutOff, { once: true });
        req.on('socket', unrefSocket);
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err: NodeJS.ErrnoException) => {
          cutOff.removeEventListener('abort', onCutOff);
          finish({ kind: 'unreachable', reason: err.message }, 0);
        });
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          const settle = (): void => {
            cutOff.removeEventListener('abort', onCutOff);
            finish(classify(status, res.headers['retry-after']), status);
          };
          res.on('error', settle);
          res.on('end', settle);
          res.resume();
        });
        req.end(body);
      });
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function classify(status: number, retryAfter: string | string[] | undefined): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 429 || status >= 500) return { kind: 'retryable', reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(retryAfter) };
  return { kind: 'rejected', reason: `HTTP ${status}` };
}

/**
 * POSTs payloads (gzipped once when asked) through a `Delivery`: bounded retries, a collector that
 * stays down probed with backoff, and a bounded, one-try exit. Runs inside `suppressTracing` on
 * the unpatched `http` functions, so the agent never traces its own exports.
 */
export class HttpSender {
  readonly displayUrl: string;
  readonly delivery: Delivery;
  private readonly transport: HttpTransport;
  private readonly gzip: boolean;

  constructor(options: HttpSenderOptions) {
    this.gzip = options.compression === 'gzip';
    this.transport = new HttpTransport(options.url, options.contentType, options.headers, this.gzip);
    this.displayUrl = this.transport.displayUrl;
    this.delivery = new Delivery(this.transport, options);
  }

  /** Sends `body`, retrying network errors, 429 and 5xx. Never rejects. */
  async send(payload: Buffer): Promise<SendResult> {
    let body: Buffer = payload;
    if (this.gzip) {
      try {
        body = await gzipAsync(payload);
      } catch (err) {
        return { ok: false, attempts: 0, status: 0, reason: `gzip failed: ${(err as Error).message}` };
      }
    }
    this.transport.lastStatus = 0;
    const result = await this.delivery.send(body);
    return { ...result, status: result.attempts === 0 ? 0 : this.transport.lastStatus };
  }

  /** See `Delivery.beginExit`. */
  beginExit(deadline: number): void {
    this.delivery.beginExit(deadline);
  }

  /** Stops retrying (a try in progress finishes) and closes idle sockets. */
  shutdown(): void {
    this.delivery.close();
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
