import type { AttemptOutcome, CutOffSignal } from './retry.js';

// One try of the exporter's own HTTP/1.1 client (http1-poster.ts): its request, what it makes of an
// answer, and its failure without one — shared by the poster and the connection that carries the try.

/** A failure to answer `retryable`/`unreachable` the way the HTTP sender reports one. */
export function noAnswer(reason: string): AttemptOutcome {
  return { ok: false, retryable: true, unreachable: true, status: 0, reason };
}

/** What the sender makes of an answer (status → outcome); `retryAfter` is the raw header, if any. */
export type AnswerReader = (status: number, retryAfter: string | undefined, bodyWritten: boolean) => AttemptOutcome;

/**
 * One `post`: its request, and where its end goes, over the one or two connections it takes (a kept-alive
 * one the server had closed, then a new one). One object per batch, where closures (the promise's
 * executor, a starter and an end handler per connection) were three.
 */
export class Post {
  /** Tried on a kept-alive connection (the one it is on now). */
  reused = false;
  constructor(
    readonly head: string,
    readonly body: Buffer,
    readonly headroom: number,
    readonly timeoutMs: number,
    readonly cutOff: CutOffSignal,
    readonly read: AnswerReader,
    readonly resolve: (outcome: AttemptOutcome) => void,
  ) {}
}
