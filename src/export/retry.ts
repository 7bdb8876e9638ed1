// The delivery policy every network exporter shares (OTLP/HTTP, Zipkin, OTLP/gRPC, and any sender of
// logs): bounded tries with a backoff shared by all payloads, so a collector that stays down is
// probed rather than hit by every batch; a server-given delay honoured up to the cap; and an exit
// mode that never holds the process for a collector that is not there. A transport supplies one
// classified try; this module knows nothing of HTTP or gRPC.

import type { Attempt, AttemptOutcome, CutOffSignal, SendResult } from './sender-types.js';

export type { Attempt, AttemptOutcome, CutOffSignal, PayloadSender, SendResult } from './sender-types.js';

/** How the reason of a payload dropped at exit begins (what the debug line says). */
export const EXIT_REASON = 'at exit:';

/** Bounds of the retry loop. */
export interface RetryOptions {
  /** Tries per batch, the first included. Default 5. */
  maxAttempts?: number;
  /** First delay after a failure; doubled per consecutive failure, with jitter. Default 500 ms. */
  initialBackoffMs?: number;
  /**
   * Upper bound of one delay, a server-given one included: a collector that stays down is probed
   * this often, and spans reach it at most this long after it is back. Default 10 s.
   */
  maxBackoffMs?: number;
  /** Deadline of one try while the process runs. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A `CutOffSignal` made per try. Not an `AbortController`: creating one, and adding and removing an
 * `EventTarget` listener, cost ~50 µs of CPU per try on the development machine (option validation,
 * the signal's own allocations), paid for every batch although a try is cut off only at exit.
 */
class CutOff implements CutOffSignal {
  aborted = false;
  constructor(readonly atExit: boolean) {}
  /** The first listener (a transport adds one per try: no array per try), then any others in order. */
  private listener: (() => void) | null = null;
  private more: (() => void)[] | null = null;
  /** Neighbours among the `Retrier`'s tries in progress. */
  previous: CutOff | null = null;
  next: CutOff | null = null;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (this.listener === null && (this.more === null || this.more.length === 0)) this.listener = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) {
      this.listener = null;
      return;
    }
    const more = this.more;
    if (more === null) return;
    const at = more.indexOf(listener);
    if (at !== -1) more.splice(at, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const first = this.listener;
    const more = this.more;
    this.listener = null;
    this.more = null;
    if (first !== null) first();
    if (more !== null) for (const listener of more) listener();
  }
}


/**
 * Runs tries until one succeeds, one fails for good, the tries are used up, or `stop()` is called.
 * The backoff is shared by every payload, not restarted per batch: after a failure nothing is sent
 * before the next try time, and while the collector is down one try at a time probes it, so it sees
 * one request per backoff interval however many batches wait. The first answer resets it.
 *
 * At exit (`beginExit`), each payload gets one try that ends by the deadline; once the collector has
 * proven unreachable during the exit, every other payload is dropped at once, untried. Sleeps use
 * unref'd timers: nothing here holds the event loop.
 */
export class Retrier {
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private consecutiveFailures = 0;
  private nextTryAt = 0;
  private downSince = -1;
  private lastFailure = '';
  /**
   * `outage()`'s sentence, made when the failure changes: a full queue asks for it once per span it
   * drops (thousands a second while the collector is down), and the same string object each time lets
   * the queue's reason and the drop counts reuse what they made of it.
   */
  private outageText: string | null = null;
  private exitDeadline = Infinity;
  /** Set when the collector did not answer during the exit: the rest is dropped without a try. */
  private exitFailure: string | null = null;
  /** Settles when the latest try has (its outcome recorded). */
  private probe: Promise<unknown> | null = null;
  private readonly wakeups = new Set<() => void>();
  /**
   * Tries in progress (linked through `CutOff.next`), so the exit can cut them off at its deadline. Not a
   * `Set` (nor an array): one that goes from one entry to none per batch reallocated its table each time.
   */
  private inProgress: CutOff | null = null;
  private stopped = false;

  /** `where`: the endpoint without credentials, for the outage sentence. `now`: a clock, for tests. */
  constructor(options: RetryOptions = {}, private readonly where = 'the collector', private readonly now: () => number = Date.now) {
    this.maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, 5)));
    this.initialBackoffMs = positive(options.initialBackoffMs, 500);
    this.maxBackoffMs = Math.max(this.initialBackoffMs, positive(options.maxBackoffMs, 10_000));
    this.timeoutMs = positive(options.timeoutMs, 10_000);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * The process is ending: from now on each payload gets one try that ends by `deadline` (a
   * `Date.now()` time); payloads waiting for a retry try once now; tries in progress are cut off at
   * the deadline. Calling it again only ever moves the deadline earlier.
   */
  beginExit(deadline: number): void {
    if (deadline < this.exitDeadline) this.exitDeadline = deadline;
    for (const wake of [...this.wakeups]) wake();
    const tries: CutOff[] = [];
    for (let at = this.inProgress; at !== null; at = at.next) tries.push(at);
    for (const controller of tries) cutOffAt(controller, this.exitDeadline - this.now());
  }

  /**
   * Why the collector is not being reached, or null when it is; stable while the outage lasts, so
   * drop counts can be grouped by it: "the collector at URL is not answering (connect ECONNREFUSED ...)".
   */
  outage(): string | null {
    if (this.downSince < 0) return null;
    return (this.outageText ??= `the collector at ${this.where} is not answering (${this.lastFailure})`);
  }

  /** How long the outage has lasted and when the next try goes; null when there is none, or at exit. */
  outageTiming(): string | null {
    if (this.downSince < 0 || this.exiting()) return null;
    const t = this.now();
    return `no payload taken for ${seconds(t - this.downSince)}, next try in ${seconds(Math.max(0, this.nextTryAt - t))}`;
  }

  run(attemptOnce: Attempt): Promise<SendResult> {
    // The collector answers and the process is not ending (every batch, most of the time): the first try
    // goes at once, as the loop would send it, without the loop's async function per batch
    // (docs/performance.md, round seventeen). Only a failed try goes on in the loop.
    if (this.downSince < 0 && !this.exiting()) {
      return this.attempt(attemptOnce, this.timeoutMs).then((outcome) => this.afterTry(outcome, 1) ?? this.retry(attemptOnce, 1));
    }
    return this.retry(attemptOnce, 0);
  }

  /** The retry loop, `attempts` tries made already. */
  private async retry(attemptOnce: Attempt, attempts: number): Promise<SendResult> {
    for (;;) {
      // While the collector is down (and during the exit), one try at a time probes it; the others
      // wait for its outcome instead of each knocking on a closed port.
      if (this.probe !== null && (this.downSince >= 0 || this.exiting())) {
        await this.probe;
        continue;
      }
      if (this.exiting()) return this.tryAtExit(attemptOnce, attempts);
      const wait = this.nextTryAt - this.now();
      if (wait > 0) {
        if (this.stopped) return { ok: false, attempts, status: 0, reason: `not sent: the exporter stopped while ${this.lastFailure}` };
        await this.sleep(wait);
        continue; // the exit may have begun meanwhile
      }
      attempts++;
      const ended = this.afterTry(await this.attempt(attemptOnce, this.timeoutMs), attempts);
      if (ended !== null) return ended;
    }
  }

  /** What a try (the `attempts`th) comes to: the payload's result, or null when another try is due. */
  private afterTry(outcome: AttemptOutcome, attempts: number): SendResult | null {
    if (outcome.ok || !outcome.retryable) {
      // It answered: the collector is there (a refusal concerns this payload only).
      this.recovered();
      return result(outcome, attempts);
    }
    this.failed(outcome.reason, outcome.retryAfterMs ?? 0);
    if (this.exiting()) {
      // Started before the exit and ended (or was cut off) during it: that was its one try.
      if (outcome.unreachable === true) this.exitFailure ??= outcome.reason;
      return droppedAtExit(attempts, outcome.status, outcome.reason);
    }
    if (attempts >= this.maxAttempts || this.stopped) return result(outcome, attempts);
    return null;
  }

  /** No more retries after the current one; a sleeping retry wakes now and gives up. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.wakeups]) wake();
  }

  private exiting(): boolean {
    return this.exitDeadline !== Infinity;
  }

  private async tryAtExit(attemptOnce: Attempt, earlier: number): Promise<SendResult> {
    if (this.exitFailure !== null) return droppedAtExit(earlier, 0, this.exitFailure);
    const left = Math.floor(this.exitDeadline - this.now());
    if (left <= 0) return droppedAtExit(earlier, 0, 'the exit deadline passed before this batch could be sent');
    const outcome = await this.attempt(attemptOnce, Math.min(this.timeoutMs, left));
    const attempts = earlier + 1;
    if (outcome.ok) {
      this.recovered();
      return result(outcome, attempts);
    }
    if (outcome.unreachable === true) {
      this.exitFailure = outcome.reason;
      this.failed(outcome.reason, 0);
    }
    // An answering collector that says "not now" at exit: no time to wait for it.
    return droppedAtExit(attempts, outcome.status, outcome.reason);
  }

  /**
   * One try, settled by one `then` on the transport's promise (no async function and no second promise
   * for the probe per batch: docs/performance.md, round seventeen). The returned promise is the probe:
   * its handler records the try's end before anyone waiting on it resumes.
   */
  private attempt(attemptOnce: Attempt, timeoutMs: number): Promise<AttemptOutcome> {
    const controller = new CutOff(this.exiting());
    controller.next = this.inProgress;
    if (controller.next !== null) controller.next.previous = controller;
    this.inProgress = controller;
    // A timer of our own at the deadline: a transport's idle timeout may fire late on a busy loop.
    const cutOff = this.exiting() ? cutOffAt(controller, this.exitDeadline - this.now()) : null;
    let outcome: Promise<AttemptOutcome>;
    try {
      // (`Promise.resolve` of a native promise is that promise: nothing made.)
      outcome = Promise.resolve(attemptOnce(timeoutMs, controller));
    } catch (err) {
      outcome = Promise.reject(err);
    }
    const ended = (): void => {
      if (cutOff !== null) clearTimeout(cutOff);
      const { previous, next } = controller;
      if (previous === null) this.inProgress = next;
      else previous.next = next;
      if (next !== null) next.previous = previous;
      if (this.probe === attempt) this.probe = null;
    };
    const attempt = outcome.then(
      (settled) => {
        ended();
        return settled;
      },
      (err: unknown): AttemptOutcome => {
        ended();
        return { ok: false, retryable: true, unreachable: true, status: 0, reason: `send failed: ${(err as Error)?.message ?? String(err)}` };
      },
    );
    this.probe = attempt;
    return attempt;
  }

  private recovered(): void {
    this.consecutiveFailures = 0;
    this.nextTryAt = 0;
    this.downSince = -1;
    this.outageText = null;
  }

  private failed(reason: string, retryAfterMs: number): void {
    const t = this.now();
    if (this.downSince < 0) this.downSince = t;
    if (reason !== this.lastFailure) {
      this.lastFailure = reason;
      this.outageText = null;
    }
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.consecutiveFailures, 30));
    this.consecutiveFailures++;
    const jittered = base * (0.8 + Math.random() * 0.4);
    this.nextTryAt = t + Math.min(this.maxBackoffMs, Math.max(jittered, retryAfterMs));
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

function droppedAtExit(attempts: number, status: number, reason: string): SendResult {
  return { ok: false, attempts, status, reason: `${EXIT_REASON} ${reason}`, atExit: true };
}

function result(outcome: AttemptOutcome, attempts: number): SendResult {
  const r: SendResult = { ok: outcome.ok, attempts, status: outcome.status, reason: outcome.ok ? '' : outcome.reason };
  if (outcome.rejected !== undefined) r.rejected = outcome.rejected;
  // A failed earlier try may still hold the payload (a socket that is not yet closed): only a lone try counts.
  if (attempts === 1 && outcome.bodyWritten === true) r.payloadFree = true;
  return r;
}

function cutOffAt(controller: CutOff, ms: number): NodeJS.Timeout | null {
  if (ms <= 0) {
    controller.abort();
    return null;
  }
  const timer = setTimeout(() => controller.abort(), ms);
  timer.unref();
  return timer;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1000)} s`;
}

export function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
