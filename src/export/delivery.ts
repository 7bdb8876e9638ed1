/**
 * Transport-independent delivery: retries with backoff, a collector that stays down is probed
 * rather than hit with every batch, and the process exit is never held for a collector that is not
 * there. An HTTP, gRPC or logs sender supplies one `Transport` (a single attempt, classified) and
 * gets all of this from `Delivery`.
 */

/** What one attempt came to. Each transport classifies its own errors into these four. */
export type AttemptOutcome =
  /** The collector took the payload. */
  | { kind: 'delivered' }
  /**
   * No answer at all: connection refused, DNS failure, unreachable network, reset, or no answer
   * within the timeout. The collector is (for now) not there; later payloads wait for a probe.
   */
  | { kind: 'unreachable'; reason: string }
  /** The collector answered "not now" (HTTP 429/5xx, gRPC UNAVAILABLE...); `retryAfterMs` 0 when it named no delay. */
  | { kind: 'retryable'; reason: string; retryAfterMs: number }
  /** The collector refused this payload (HTTP 4xx...): retrying it cannot help. */
  | { kind: 'rejected'; reason: string };

/** One way to reach a collector. */
export interface Transport {
  /** The endpoint without credentials, for log lines. */
  readonly displayUrl: string;
  /**
   * Makes exactly one attempt, giving up after `timeoutMs` or when `cutOff` aborts (the exit deadline
   * came), either of which is `unreachable`. Never rejects.
   */
  attempt(payload: Uint8Array, timeoutMs: number, cutOff: AbortSignal): Promise<AttemptOutcome>;
  /** Closes idle connections; an attempt in progress may finish. */
  close(): void;
}

/** What one `send` came to. */
export interface DeliveryResult {
  ok: boolean;
  /** Attempts made for this payload (0 when it was dropped without one). */
  attempts: number;
  /** Why it failed, safe to log (no headers, no credentials); '' when delivered. */
  reason: string;
}

/** Retry and probe timing of a `Delivery`. */
export interface DeliveryOptions {
  /** Per-attempt timeout while the process runs. Default 10 s. */
  timeoutMs?: number;
  /** Tries per payload, the first included. Default 5. */
  maxAttempts?: number;
  /** First delay after a failure; doubled each consecutive failure, with jitter. Default 500 ms. */
  initialBackoffMs?: number;
  /**
   * Upper bound of one delay, `Retry-After` included: a collector that stays down is probed this
   * often, and spans reach it at most this long after it is back. Default 10 s.
   */
  maxBackoffMs?: number;
  /** Clock in milliseconds; for tests. */
  now?: () => number;
}

/**
 * Sends payloads through a `Transport`. Backoff is shared by every payload, not restarted per batch:
 * after a failure nothing is sent before the next probe time, so a collector that stays down sees one
 * request per backoff interval (growing to `maxBackoffMs`) however many batches wait. The first
 * success resets it.
 *
 * At exit (`beginExit`), each payload gets one attempt, bounded by the exit deadline; once the
 * collector has proven unreachable during the exit (refused, DNS failure, no answer), every other
 * payload is dropped at once instead of tried. Nothing here holds the event loop: sleeps use unref'd
 * timers.
 */
export class Delivery {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;
  private consecutiveFailures = 0;
  private nextAttemptAt = 0;
  private downSince = -1;
  private lastFailure = '';
  private exitDeadline = Infinity;
  /** Set when the collector failed to answer during the exit: the rest is dropped without a try. */
  private exitFailure: string | null = null;
  private readonly wakeups = new Set<() => void>();
  /** Settles when the latest attempt has (its outcome recorded); see `send`. */
  private probe: Promise<void> | null = null;
  /** Attempts in progress, so the exit can cut them off at its deadline. */
  private readonly inProgress = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly transport: Transport, options: DeliveryOptions = {}) {
    this.timeoutMs = positive(options.timeoutMs, 10_000);
    this.maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, 5)));
    this.initialBackoffMs = positive(options.initialBackoffMs, 500);
    this.maxBackoffMs = Math.max(this.initialBackoffMs, positive(options.maxBackoffMs, 10_000));
    this.now = options.now ?? Date.now;
  }

  get displayUrl(): string {
    return this.transport.displayUrl;
  }

  /**
   * The process is ending: from now on each payload gets one attempt that ends by `deadline` (a time
   * on this delivery's clock), and payloads waiting for a retry try once now. Calling it again only
   * ever moves the deadline earlier.
   */
  beginExit(deadline: number): void {
    if (deadline < this.exitDeadline) this.exitDeadline = deadline;
    for (const wake of [...this.wakeups]) wake();
    // An attempt started before the exit (with the long running-time timeout) ends by the deadline
    // too, so its payload is counted and reported instead of vanishing with the process.
    for (const controller of this.inProgress) cutOffAt(controller, this.exitDeadline - this.now());
  }

  /**
   * Why the collector is not being reached, or null when it is; stable while the outage lasts, so
   * drop counts can be grouped by it: "the collector at URL is not answering (connect ECONNREFUSED ...)".
   */
  outage(): string | null {
    if (this.downSince < 0) return null;
    return `the collector at ${this.transport.displayUrl} is not answering (${this.lastFailure})`;
  }

  /** How long the outage has lasted and when the next probe goes, or null when there is none. */
  outageTiming(): string | null {
    if (this.downSince < 0 || this.exiting()) return null;
    const t = this.now();
    return `no payload taken for ${seconds(t - this.downSince)}, next try in ${seconds(Math.max(0, this.nextAttemptAt - t))}`;
  }

  /** Delivers `payload`, retrying unreachable/retryable outcomes within the bounds. Never rejects. */
  async send(payload: Uint8Array): Promise<DeliveryResult> {
    let attempts = 0;
    for (;;) {
      // While the collector is down (and during the exit), one attempt at a time probes it; the
      // others wait for its outcome instead of each knocking on a closed port.
      if (this.probe !== null && (this.downSince >= 0 || this.exiting())) {
        await this.probe;
        continue;
      }
      if (this.exiting()) return this.sendAtExit(payload, attempts);
      const wait = this.nextAttemptAt - this.now();
      if (wait > 0) {
        if (this.stopped) return { ok: false, attempts, reason: `not sent: the exporter stopped while ${this.lastFailure}` };
        await this.sleep(wait);
        continue; // the exit may have begun while we slept
      }
      attempts++;
      const outcome = await this.attempt(payload, this.timeoutMs);
      if (outcome.kind === 'delivered') {
        this.recovered();
        return { ok: true, attempts, reason: '' };
      }
      if (outcome.kind === 'rejected') {
        // It answered: the collector is there, only this payload is unwelcome.
        this.recovered();
        return { ok: false, attempts, reason: outcome.reason };
      }
      this.failed(outcome.reason, outcome.kind === 'retryable' ? outcome.retryAfterMs : 0);
      if (this.exiting()) {
        // Started before the exit and ended (or was cut off) during it: that was its one try.
        if (outcome.kind === 'unreachable') this.exitFailure ??= outcome.reason;
        return { ok: false, attempts, reason: `at exit: ${outcome.reason}` };
      }
      if (attempts >= this.maxAttempts || this.stopped) return { ok: false, attempts, reason: outcome.reason };
    }
  }

  /** Stops retrying (a try in progress finishes) and closes idle connections. */
  close(): void {
    this.stopped = true;
    for (const wake of [...this.wakeups]) wake();
    this.transport.close();
  }

  private exiting(): boolean {
    return this.exitDeadline !== Infinity;
  }

  private async sendAtExit(payload: Uint8Array, earlier: number): Promise<DeliveryResult> {
    if (this.exitFailure !== null) return { ok: false, attempts: earlier, reason: `at exit: ${this.exitFailure}` };
    const left = Math.floor(this.exitDeadline - this.now());
    if (left <= 0) return { ok: false, attempts: earlier, reason: 'at exit: the exit deadline passed before this batch could be sent' };
    const outcome = await this.attempt(payload, Math.min(this.timeoutMs, left));
    const attempts = earlier + 1;
    switch (outcome.kind) {
      case 'delivered':
        this.recovered();
        return { ok: true, attempts, reason: '' };
      case 'unreachable':
        this.exitFailure = outcome.reason;
        this.failed(outcome.reason, 0);
        return { ok: false, attempts, reason: `at exit: ${outcome.reason}` };
      default:
        // An answering collector that says "not now" at exit: no time to wait for it.
        return { ok: false, attempts, reason: `at exit: ${outcome.reason}` };
    }
  }

  private attempt(payload: Uint8Array, timeoutMs: number): Promise<AttemptOutcome> {
    const controller = new AbortController();
    this.inProgress.add(controller);
    // A timer of our own at the deadline: a transport's idle timeout may fire late on a busy loop.
    if (this.exiting()) cutOffAt(controller, this.exitDeadline - this.now());
    const attempt = this.runAttempt(payload, timeoutMs, controller);
    const probe = attempt.then(() => {
      if (this.probe === probe) this.probe = null;
    });
    this.probe = probe;
    return attempt;
  }

  private async runAttempt(payload: Uint8Array, timeoutMs: number, controller: AbortController): Promise<AttemptOutcome> {
    try {
      return await this.transport.attempt(payload, timeoutMs, controller.signal);
    } catch (err) {
      return { kind: 'unreachable', reason: `send failed: ${(err as Error)?.message ?? String(err)}` };
    } finally {
      this.inProgress.delete(controller);
    }
  }

  private recovered(): void {
    this.consecutiveFailures = 0;
    this.nextAttemptAt = 0;
    this.downSince = -1;
  }

  private failed(reason: string, retryAfterMs: number): void {
    const t = this.now();
    if (this.downSince < 0) this.downSince = t;
    this.lastFailure = reason;
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.consecutiveFailures, 30));
    this.consecutiveFailures++;
    const jittered = base * (0.8 + Math.random() * 0.4);
    this.nextAttemptAt = t + Math.min(this.maxBackoffMs, Math.max(jittered, retryAfterMs));
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

function cutOffAt(controller: AbortController, ms: number): void {
  if (ms <= 0) {
    controller.abort();
    return;
  }
  setTimeout(() => controller.abort(), ms).unref();
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`;
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
