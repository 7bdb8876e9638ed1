import { guard } from '../util/log.js';

/** What the shutdown hooks need from the tracer. */
export interface Flushable {
  flush(): Promise<void>;
}

/** Options of `installShutdownHooks`. */
export interface ShutdownOptions {
  /**
   * Reports spans still queued, so `beforeExit` does nothing (and re-arms nothing) when idle; its
   * `forceFlush(deadline)` tells the exporters the process is ending (one bounded try per batch).
   */
  processor?: { pendingCount?(): number | undefined; forceFlush?(exitDeadline?: number): Promise<void> };
  /** The longest an exit waits for the flush (`TRACING_EXIT_TIMEOUT_MS`). Default 500 ms. */
  exitTimeoutMs?: number;
  /** The process to hook; for tests. */
  process?: NodeJS.Process;
  /**
   * Called once when the agent ends the process on a signal, before the final flush: takes back
   * every instrumentation (the registry's `stopAll`), so requests still in flight start no spans
   * that could never be sent.
   */
  onStop?: () => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Past the exit deadline, time for the exporters to count and report what they dropped. */
const EXIT_GRACE_MS = 50;

/**
 * Listeners on `signal` that are the app's own: all but ours and those of `signal-exit`, a
 * library many tools load that only watches for the exit and re-sends the signal when it is
 * alone. Counting it as the app's would leave two listeners each waiting for the other, and the
 * signal would be ignored. Its instances count themselves on a shared emitter (v4 on
 * `globalThis`, v3 on `process`); we read that count the way it does.
 */
function appListenerCount(proc: NodeJS.Process, signal: NodeJS.Signals): number {
  const g = globalThis as unknown as Record<symbol, { count?: unknown } | undefined>;
  const p = proc as unknown as { __signal_exit_emitter__?: { count?: unknown } };
  const v4 = g[Symbol.for('signal-exit emitter')]?.count;
  const v3 = p.__signal_exit_emitter__?.count;
  const passive = (typeof v4 === 'number' ? v4 : 0) + (typeof v3 === 'number' ? v3 : 0);
  return Math.max(0, proc.listenerCount(signal) - 1 - passive);
}

/**
 * Makes spans survive the end of the process without ever holding the exit hostage:
 * - on `beforeExit` (the loop ran dry), flushes while a ref'd timer of at most `exitTimeoutMs`
 *   keeps the process up; each batch gets one try that ends by then, and a refused connection or DNS
 *   failure drops the rest at once; once a flush misses that deadline it is not tried again;
 * - on SIGTERM/SIGINT, when the app has no listener of its own, flushes within the deadline, then
 *   removes its listeners and re-sends the signal, so the process ends exactly as it would have
 *   without the agent (killed by that signal). When the app has its own listener, the app decides
 *   how to end; the hook only starts a flush. `signal-exit`'s listeners are not the app's own.
 * Returns a function that removes the hooks.
 */
export function installShutdownHooks(tracer: Flushable, opts: ShutdownOptions = {}): () => void {
  const proc = opts.process ?? process;
  const deadline = typeof opts.exitTimeoutMs === 'number' && opts.exitTimeoutMs >= 0 ? opts.exitTimeoutMs : 500;
  const processor = opts.processor;
  // With a deadline the exporters make one try per batch, cut off at the deadline, and drop the rest
  // at once when the collector refuses or cannot be resolved: the exit costs a connection attempt.
  const flush = (exiting = true): Promise<void> => {
    if (typeof processor?.forceFlush !== 'function') return tracer.flush();
    return processor.forceFlush(exiting ? Date.now() + deadline : undefined).catch(() => undefined);
  };
  let flushing = false;
  let gaveUp = false;
  let flushedOnce = false;
  let signalled = false;

  const pending = (): number => {
    const count = opts.processor?.pendingCount?.();
    // Without a count, flush once: enough for the common case, and no endless beforeExit loop.
    return typeof count === 'number' ? count : flushedOnce ? 0 : 1;
  };

  const onBeforeExit = (): void => guard('beforeExit flush', () => {
    if (flushing || gaveUp || signalled || pending() === 0) return;
    flushing = true;
    flushedOnce = true;
    // Export sockets are unref'd; this timer is what keeps the loop alive for the flush. The exporters
    // end their tries at the deadline themselves; the few ms after it let them count what they dropped.
    const keepAlive = setTimeout(() => {
      gaveUp = true;
      flushing = false;
    }, deadline + EXIT_GRACE_MS);
    void flush().then(() => {
      clearTimeout(keepAlive);
      flushing = false;
    });
  }, undefined);

  const onSignal = (signal: NodeJS.Signals): void => guard('signal flush', () => {
    if (appListenerCount(proc, signal) > 0) {
      // The app decides how (and how fast) it ends; the flush keeps the running-time rules.
      void flush(false);
      return;
    }
    if (signalled) {
      // A second Ctrl-C means "now".
      end(signal);
      return;
    }
    signalled = true;
    if (opts.onStop !== undefined) guard('stopping instrumentations', opts.onStop, undefined);
    const timer = setTimeout(() => end(signal), deadline + EXIT_GRACE_MS);
    timer.unref();
    void flush().then(() => {
      clearTimeout(timer);
      end(signal);
    });
  }, undefined);

  let ended = false;
  const end = (signal: NodeJS.Signals): void => {
    if (ended) return;
    ended = true;
    uninstall();
    // With no listener left, Node's default action applies: the exit status is the signal's.
    proc.kill(proc.pid, signal);
  };

  const uninstall = (): void => {
    proc.removeListener('beforeExit', onBeforeExit);
    for (const s of SIGNALS) proc.removeListener(s, onSignal);
  };

  proc.on('beforeExit', onBeforeExit);
  for (const s of SIGNALS) proc.on(s, onSignal);
  return uninstall;
}
