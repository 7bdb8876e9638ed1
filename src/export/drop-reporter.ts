import { log } from '../util/log.js';

/**
 * Counts dropped spans and reports them in at most one warning per interval, so a backend that
 * is down for an hour costs 60 log lines, not one per batch.
 */
export class DropReporter {
  private total = 0;
  private unreported = 0;
  private lastWarnAt = -Infinity;

  constructor(
    private readonly where: string,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spans dropped since start. */
  get dropped(): number {
    return this.total;
  }

  add(count: number, reason: string): void {
    if (count <= 0) return;
    this.total += count;
    this.unreported += count;
    log.debug(`${this.where}: dropped ${count} span(s): ${reason}`);
    const t = this.now();
    if (t - this.lastWarnAt < this.intervalMs) return;
    this.lastWarnAt = t;
    log.warn(`${this.where}: dropped ${this.unreported} span(s) (${this.total} since start); last reason: ${reason}`);
    this.unreported = 0;
  }
}
