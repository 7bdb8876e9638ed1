// The retry loop every network exporter shares (OTLP/HTTP, Zipkin, OTLP/gRPC): bounded tries,
// exponential backoff with jitter, a server-given delay honoured up to the cap, and a stop switch
// that wakes a sleeping retry at once so shutdown never waits out a backoff.

/** Bounds of the retry loop. */
export interface RetryOptions {
  /** Tries per batch, the first included. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubled each retry, with jitter. Default 500 ms. */
  initialBackoffMs?: number;
  /** Upper bound of one delay, a server-given one included. Default 30 s. */
  maxBackoffMs?: number;
}

/** What one try came to, in the transport's own terms. */
export interface AttemptOutcome {
  ok: boolean;
  /** Whether the transport's rules allow another try (network error, 429/5xx, UNAVAILABLE, ...). */
  retryable: boolean;
  /** The protocol's status: the HTTP status, or the gRPC status code; 0 when no answer came (HTTP). */
  status: number;
  /** Why it failed, safe to log (no headers, no credentials). */
  reason: string;
  /** A delay the server asked for (`Retry-After`, gRPC `RetryInfo`); 0 when none. */
  retryAfterMs?: number;
  /** Accepted with a partial success (see `SendResult.rejected`). */
  rejected?: { spans: number; message: string };
}

/** What one `send` came to. */
export interface SendResult {
  ok: boolean;
  attempts: number;
  /** The last status (see `AttemptOutcome.status`). */
  status: number;
  /** Why it failed, safe to log (no headers, no credentials). */
  reason: string;
  /** Accepted with a partial success: spans the backend says it rejected, and why. */
  rejected?: { spans: number; message: string };
}

/** Sends one payload with bounded retries: what exporters hold, whatever the transport. */
export interface PayloadSender {
  /** The endpoint without credentials or query, for log lines. */
  readonly displayUrl: string;
  /** Sends `payload` (uncompressed; the sender compresses if configured). Never rejects. */
  send(payload: Buffer): Promise<SendResult>;
  /** Stops retrying (a try in progress finishes) and closes idle connections. */
  shutdown(): void;
}

/** Runs tries until one succeeds, one fails for good, the tries are used up, or `stop()` is called. */
export class Retrier {
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly wakeups = new Set<() => void>();
  private stopped = false;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, 5)));
    this.initialBackoffMs = positive(options.initialBackoffMs, 500);
    this.maxBackoffMs = positive(options.maxBackoffMs, 30_000);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async run(attemptOnce: () => Promise<AttemptOutcome>): Promise<SendResult> {
    let attempt = 0;
    let backoff = this.initialBackoffMs;
    for (;;) {
      attempt++;
      const outcome = await attemptOnce();
      if (outcome.ok) {
        const result: SendResult = { ok: true, attempts: attempt, status: outcome.status, reason: '' };
        if (outcome.rejected !== undefined) result.rejected = outcome.rejected;
        return result;
      }
      if (!outcome.retryable || attempt >= this.maxAttempts || this.stopped) {
        return { ok: false, attempts: attempt, status: outcome.status, reason: outcome.reason };
      }
      const jittered = backoff * (0.8 + Math.random() * 0.4);
      const delay = Math.min(this.maxBackoffMs, Math.max(jittered, outcome.retryAfterMs ?? 0));
      await this.sleep(delay);
      backoff = Math.min(this.maxBackoffMs, backoff * 2);
    }
  }

  /** No more retries after the current one; a sleeping retry wakes now for its last try. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.wakeups) wake();
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
}

export function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
