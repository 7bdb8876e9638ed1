import t from 'tap';
import { Retrier, type AttemptOutcome, type CutOffSignal, type RetryOptions, type SendResult } from '../../../src/export/retry.js';

/** A transport that answers from a script and records when each try was made. */
class ScriptedTransport {
  readonly attempts: { at: number; timeoutMs: number; payload: string }[] = [];
  constructor(private readonly answer: (n: number) => AttemptOutcome | 'hang') {}
  attempt(payload: string, timeoutMs: number, cutOff: CutOffSignal): Promise<AttemptOutcome> {
    this.attempts.push({ at: Date.now(), timeoutMs, payload });
    const answer = this.answer(this.attempts.length);
    if (answer !== 'hang') return Promise.resolve(answer);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(noAnswer(`no answer within ${timeoutMs} ms`)), timeoutMs);
      cutOff.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(noAnswer('no answer before the exit deadline'));
      });
    });
  }
}

/** A retrier over a scripted transport, with `send(payload)` as an exporter's sender has it. */
class Delivery {
  readonly retrier: Retrier;
  constructor(private readonly transport: ScriptedTransport, options: RetryOptions = {}) {
    this.retrier = new Retrier(options, 'http://collector.test/v1/traces');
  }
  send(payload: string): Promise<SendResult> {
    return this.retrier.run((timeoutMs, cutOff) => this.transport.attempt(payload, timeoutMs, cutOff));
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
  close(): void {
    this.retrier.stop();
  }
}

function noAnswer(reason: string): AttemptOutcome {
  return { ok: false, retryable: true, unreachable: true, status: 0, reason };
}
const delivered: AttemptOutcome = { ok: true, retryable: false, status: 200, reason: '' };

// Delivery's own timers are unref'd (they must never hold an app's exit): keep this test process up.
const keepAlive = setInterval(() => undefined, 1000);
t.teardown(() => clearInterval(keepAlive));

const refused = noAnswer('connect ECONNREFUSED 127.0.0.1:4318');
const payload = (s: string): string => s;

t.test('a collector that stays down is probed on one shared backoff, not hit by every batch', async (t) => {
  const transport = new ScriptedTransport(() => refused);
  const delivery = new Delivery(transport, { initialBackoffMs: 40, maxBackoffMs: 160, maxAttempts: 3 });
  const first = await delivery.send(payload('first'));
  t.same({ ok: first.ok, attempts: first.attempts }, { ok: false, attempts: 3 });
  // Then four batches at once: the old sender made 4 × 3 requests at once, each batch restarting its backoff.
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => delivery.send(payload(`b${i}`))));
  t.ok(results.every((r) => !r.ok && r.reason.includes('ECONNREFUSED')), 'every batch failed with the reason');
  const gaps = transport.attempts.slice(1).map((a, i) => a.at - transport.attempts[i]!.at);
  // Attempts are spaced by the backoff (jitter 0.8–1.2), whichever batch makes them, never two at once.
  t.ok(gaps.every((g) => g >= 40 * 0.8 - 5), `attempts spaced by the backoff: ${gaps.join(', ')} ms`);
  t.ok(gaps.slice(2).every((g) => g >= 160 * 0.8 - 5), `the backoff grew to its cap: ${gaps.join(', ')} ms`);
  t.equal(transport.attempts.length, 3 + 4 * 3, 'each batch still had its tries, one at a time');
  t.match(delivery.outage(), /collector at http:\/\/collector\.test\/v1\/traces is not answering \(connect ECONNREFUSED/);
  t.match(delivery.outageTiming(), /no payload taken for \d+ (ms|s), next try in \d+ (ms|s)/);
});

t.test('the first success resets the backoff and ends the outage', async (t) => {
  const transport = new ScriptedTransport((n) => (n <= 2 ? refused : delivered));
  const delivery = new Delivery(transport, { initialBackoffMs: 20, maxBackoffMs: 1000, maxAttempts: 5 });
  const first = await delivery.send(payload('a'));
  t.same({ ok: first.ok, attempts: first.attempts }, { ok: true, attempts: 3 });
  t.equal(delivery.outage(), null);
  const before = Date.now();
  t.equal((await delivery.send(payload('b'))).ok, true);
  t.ok(Date.now() - before < 15, 'the next batch goes at once');
});

t.test('the outage sentence names the latest failure, and is one string while that lasts', async (t) => {
  const hung = noAnswer('no answer within 5 ms');
  const transport = new ScriptedTransport((n) => (n <= 2 ? refused : n === 3 ? hung : n === 4 ? delivered : refused));
  const delivery = new Delivery(transport, { initialBackoffMs: 2, maxBackoffMs: 4, maxAttempts: 2 });
  await delivery.send(payload('a'));
  const first = delivery.outage();
  t.match(first, /not answering \(connect ECONNREFUSED 127\.0\.0\.1:4318\)$/);
  t.equal(delivery.outage(), first, 'asked again, the same string (a full queue asks once per span it drops)');
  t.equal((await delivery.send(payload('b'))).ok, true, 'the third try fails otherwise, the fourth is answered');
  t.equal(delivery.outage(), null, 'answered: no outage');
  await delivery.send(payload('c'));
  t.match(delivery.outage(), /not answering \(connect ECONNREFUSED/);
  const hangs = new Delivery(new ScriptedTransport((n) => (n === 1 ? refused : hung)), { initialBackoffMs: 2, maxBackoffMs: 4, maxAttempts: 2 });
  await hangs.send(payload('d'));
  t.match(hangs.outage(), /not answering \(no answer within 5 ms\)$/, 'a later failure of another kind is named instead');
});

t.test('a rejected payload (4xx) is not retried and does not mark the collector down', async (t) => {
  const transport = new ScriptedTransport(() => ({ ok: false, retryable: false, status: 400, reason: 'HTTP 400' }));
  const delivery = new Delivery(transport, { initialBackoffMs: 20 });
  t.same(await delivery.send(payload('a')), { ok: false, attempts: 1, status: 400, reason: 'HTTP 400' });
  t.equal(delivery.outage(), null);
});

t.test('Retry-After sets the next try, capped by maxBackoffMs', async (t) => {
  const transport = new ScriptedTransport((n) => (n === 1 ? { ok: false, retryable: true, status: 429, reason: 'HTTP 429', retryAfterMs: 120 } : delivered));
  const delivery = new Delivery(transport, { initialBackoffMs: 5, maxBackoffMs: 1000 });
  t.equal((await delivery.send(payload('a'))).ok, true);
  const gap = transport.attempts[1]!.at - transport.attempts[0]!.at;
  t.ok(gap >= 115, `waited ${gap} ms for Retry-After`);
});

t.test('at exit a refused connection ends the flush at once: one try, the rest dropped untried', async (t) => {
  const transport = new ScriptedTransport(() => refused);
  const delivery = new Delivery(transport, { initialBackoffMs: 1000, maxAttempts: 5 });
  delivery.beginExit(Date.now() + 5000);
  const started = Date.now();
  const results = await Promise.all([delivery.send(payload('a')), delivery.send(payload('b')), delivery.send(payload('c'))]);
  t.ok(Date.now() - started < 100, 'no backoff, no waiting for the deadline');
  t.equal(transport.attempts.length, 1, 'one connection attempt in all');
  t.same(results.map((r) => r.attempts), [1, 0, 0]);
  t.ok(results.every((r) => !r.ok && r.reason === 'at exit: connect ECONNREFUSED 127.0.0.1:4318'), JSON.stringify(results));
});

t.test('at exit a hanging collector costs one attempt bounded by the deadline', async (t) => {
  const transport = new ScriptedTransport(() => 'hang');
  const delivery = new Delivery(transport, { timeoutMs: 10_000 });
  const started = Date.now();
  delivery.beginExit(started + 150);
  const results = await Promise.all([delivery.send(payload('a')), delivery.send(payload('b'))]);
  const took = Date.now() - started;
  t.ok(took >= 140 && took < 1000, `ended at the deadline (${took} ms), not the 10 s timeout`);
  t.equal(transport.attempts.length, 1, 'one attempt in all: the second batch waited for its outcome, then the deadline had passed');
  t.ok(transport.attempts.every((a) => a.timeoutMs <= 150), 'each attempt bounded by the time left');
  t.ok(results.every((r) => !r.ok), 'both dropped');
});

t.test('at exit a batch waiting for its next try is tried once at once; one already in flight is cut off at the deadline', async (t) => {
  let mode: 'refuse' | 'deliver' = 'refuse';
  const transport = new ScriptedTransport(() => (mode === 'refuse' ? refused : delivered));
  const delivery = new Delivery(transport, { initialBackoffMs: 60_000, maxAttempts: 5 });
  const waiting = delivery.send(payload('waiting'));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(transport.attempts.length, 1, 'first try failed; the next one is a minute away');
  mode = 'deliver';
  const started = Date.now();
  delivery.beginExit(started + 500);
  const r = await waiting;
  t.same({ ok: r.ok, attempts: r.attempts }, { ok: true, attempts: 2 });
  t.ok(Date.now() - started < 100, 'woken at once');

  const hanging = new ScriptedTransport(() => 'hang');
  const busy = new Delivery(hanging, { timeoutMs: 60_000 });
  const inFlight = busy.send(payload('in flight'));
  const exitAt = Date.now();
  busy.beginExit(exitAt + 100);
  const cut = await inFlight;
  t.ok(Date.now() - exitAt < 1000, 'the running-time timeout (60 s) did not apply');
  t.same({ ok: cut.ok, reason: cut.reason }, { ok: false, reason: 'at exit: no answer before the exit deadline' });
});

t.test('stop() ends a batch waiting for its next try, without another try', async (t) => {
  const transport = new ScriptedTransport(() => refused);
  const delivery = new Delivery(transport, { initialBackoffMs: 60_000 });
  const pending = delivery.send(payload('a'));
  await new Promise((r) => setTimeout(r, 10));
  delivery.close();
  const r = await pending;
  t.equal(r.ok, false);
  t.equal(transport.attempts.length, 1, 'no further try');
});
