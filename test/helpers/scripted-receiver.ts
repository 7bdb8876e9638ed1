/** What every scripted fault of a test receiver can say, besides its own way of failing. */
export interface FaultTiming {
  /** Never answer (until the caller gives up or the receiver closes). */
  hang?: boolean;
  /** Answer only after this many milliseconds. */
  delayMs?: number;
  /** Apply to this many requests, then behave again. Default: all. */
  times?: number;
}

/**
 * What the OTLP/HTTP collector (`collector.ts`) and the gRPC one (`grpc-collector.ts`) share: a
 * scripted fault for the next requests, answering on time, late or never, and waiting until enough
 * has arrived. Each subclass decodes its own protocol and calls `received()` when something arrived.
 */
export abstract class ScriptedReceiver<F extends FaultTiming> {
  private currentFault: F | null = null;
  private faultUses = 0;
  private waiters: (() => void)[] = [];

  /** @param label how timeouts name the receiver ("collector", "grpc collector"). */
  protected constructor(private readonly label: string) {}

  /** Changes (or clears, with null) the fault mode from the next request on. */
  fault(next: F | null): void {
    this.currentFault = next;
    this.faultUses = 0;
  }

  /** The fault for the request that just arrived (counted against its `times`), or null. */
  protected takeFault(): F | null {
    const f = this.currentFault;
    if (f === null) return null;
    this.faultUses++;
    if (f.times !== undefined && this.faultUses >= f.times) this.currentFault = null;
    return f;
  }

  /** Runs `respond` now, after the fault's delay, or never (`hang`: `onHang` instead); waiters are told at once when it hangs. */
  protected answer(fault: F | null, respond: () => void, onHang: () => void = () => undefined): void {
    if (fault?.hang === true) {
      onHang();
      this.received();
      return;
    }
    if (fault?.delayMs !== undefined) setTimeout(respond, fault.delayMs);
    else respond();
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs`, saying how far it got. */
  protected waitFor(done: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms with ${progress()}`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  /** Something arrived (or was answered): waiters check again. */
  protected received(): void {
    for (const w of [...this.waiters]) w();
  }
}
