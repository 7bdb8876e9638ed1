import { log } from '../util/log.js';

/** Distinct reasons kept per warning; more are summed as "other reasons". */

const MAX_REASONS = 4;

/**
 * Counts dropped items (spans, log records) and reports them in at most one warning per interval,
 * saying how many were dropped and why, reason by reason: a collector that is down for an hour
 * costs 60 log lines, not one per batch. The first drop is reported at once. One reporter serves a
 * whole pipeline (queue and exporter), so the warning is one line, not one per stage.
 */
export class DropReporter {
  private total = 0;
  private unreported = new Map<string, number>();
  private lastWarnAt = -Infinity;
  /** Adds the current state of things to each warning (e.g. how long the collector has been down). */
  status: (() => string | null) | null = null;

  constructor(
    private readonly where: string,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly unit = 'span',
  ) {}

  /** Items dropped since start. */
  get dropped(): number {
    return this.total;
  }

  /**
   * Counts `count` items dropped because of `reason` (a phrase safe to log: no headers, no secrets).
   * `atExit`: dropped by the exit's flush (`SendResult.atExit`), counted without a warning.
   */
  add(count: number, reason: string, atExit = false): void {
    if (count <= 0) return;
    this.total += count;
    const key = this.unreported.has(reason) || this.unreported.size < MAX_REASONS ? reason : 'other reasons';
    this.unreported.set(key, (this.unreported.get(key) ?? 0) + count);
    log.debug(`${this.where}: dropped ${count} ${this.unit}(s): ${reason}`);
    // Drops at exit are counted and said at debug level only: a short script on a machine without a
    // collector (a laptop, a CI runner, every process of a test runner under NODE_OPTIONS) exits as
    // quietly as without the agent, as OpenTelemetry's and Datadog's do; the warning is for drops
    // while the process runs, where someone can still act on it.
    if (atExit) return;
    const t = this.now();
    if (t - this.lastWarnAt < this.intervalMs) return;
    this.lastWarnAt = t;
    let sum = 0;
    const parts: string[] = [];
    for (const [why, n] of this.unreported) {
      sum += n;
      parts.push(`${n} ${why}`);
    }
    const status = this.status?.() ?? null;
    log.warn(`${this.where}: dropped ${sum} ${this.unit}(s) (${this.total} since start): ${parts.join('; ')}${status === null ? '' : ` [${status}]`}`);
    this.unreported = new Map();
  }
}
