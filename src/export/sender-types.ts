// What a transport's try gives the retrier (retry.ts), and what a sender of payloads (the retrier around a
// transport: http-sender.ts, grpc-sender.ts) gives the exporters: the types they share, no code.

/** What one try came to, in the transport's own terms. */
export interface AttemptOutcome {
  ok: boolean;
  /** Whether the transport's rules allow another try (network error, 429/5xx, UNAVAILABLE, ...). */
  retryable: boolean;
  /**
   * No answer at all: connection refused, DNS failure, unreachable network, reset before an answer,
   * or none within the deadline. At exit this ends the flush: the other payloads are not tried.
   */
  unreachable?: boolean;
  /** The protocol's status: the HTTP status, or the gRPC status code; 0 when no answer came (HTTP). */
  status: number;
  /** Why it failed, safe to log (no headers, no credentials). */
  reason: string;
  /** A delay the server asked for (`Retry-After`, gRPC `RetryInfo`); 0 when none. */
  retryAfterMs?: number;
  /** Accepted with a partial success (see `SendResult.rejected`). */
  rejected?: { spans: number; message: string };
  /** The transport had written the whole payload out when this outcome came: it reads it no more. */
  bodyWritten?: boolean;
}

/** What one `send` came to. */
export interface SendResult {
  ok: boolean;
  /** Tries made for this payload (0 when it was dropped without one). */
  attempts: number;
  /** The last status (see `AttemptOutcome.status`). */
  status: number;
  /** Why it failed, safe to log (no headers, no credentials). */
  reason: string;
  /** Accepted with a partial success: spans the backend says it rejected, and why. */
  rejected?: { spans: number; message: string };
  /**
   * Dropped by the exit's one bounded try (or not tried because the exit had found the collector
   * unreachable, or its deadline had passed): the drop reporter counts it without a warning.
   */
  atExit?: boolean;
  /**
   * The transport will not read the payload (nor the headroom before it) again: its memory may be
   * reused. Set only when that is certain (one try, written out in full before the answer came).
   */
  payloadFree?: boolean;
}

/** Sends one payload with bounded retries: what exporters hold, whatever the transport. */
export interface PayloadSender {
  /** The endpoint without credentials or query, for log lines. */
  readonly displayUrl: string;
  /**
   * Sends `payload` (uncompressed; the sender compresses if configured). Never rejects. `headroom`:
   * bytes just before `payload` in its memory that the sender may write its framing into.
   */
  send(payload: Buffer, headroom?: number): Promise<SendResult>;
  /**
   * Bytes of framing this sender writes before a payload when the payload has that much headroom (the
   * OTLP/HTTP poster's request head): an encoder leaves this much room before each batch. Absent or 0:
   * none beyond what the encoder leaves anyway (a gRPC prefix).
   */
  readonly framingBytes?: number;
  /** Stops retrying (a try in progress finishes) and closes idle connections. */
  shutdown(): void;
  /** The process is ending (see `Retrier.beginExit`). */
  beginExit?(deadline: number): void;
  /** Why the collector is not being reached, or null (see `Retrier.outage`). */
  outage?(): string | null;
  /** How long the outage has lasted and when the next try goes, or null. */
  outageTiming?(): string | null;
}

/**
 * Fires once when a try must stop (the exit deadline came): the part of `AbortSignal` transports use.
 */
export interface CutOffSignal {
  readonly aborted: boolean;
  /**
   * A try made at exit (after `beginExit`): it gets one connection, no second address, as a refusal at exit
   * ends the flush at once (issue 21). Absent: a try while the process runs.
   */
  readonly atExit?: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * One try of a transport: give up after `timeoutMs`, or at once when `cutOff` aborts (the exit
 * deadline came); either is `unreachable`. Listeners run once, at most. Never rejects.
 */
export type Attempt = (timeoutMs: number, cutOff: CutOffSignal) => Promise<AttemptOutcome>;
