/** Levels in increasing verbosity. */
export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** Logs a warning once per key for the life of the process. */
  warnOnce(key: string, msg: string): void;
}

let level: LogLevel = 'warn';
const warnedKeys = new Set<string>();

export function setLogLevel(next: LogLevel): void {
  level = next;
}

function write(at: LogLevel, msg: string): void {
  if (ORDER[at] > ORDER[level]) return;
  // stderr, so the agent never mixes into an app's stdout protocol.
  try {
    process.stderr.write(`[tracing-agent] ${at}: ${msg}\n`);
  } catch {
    // A closed stderr must not take the app down.
  }
}

/** The agent's logger: one line per message on stderr, prefixed so users can tell it apart. */
export const log: Logger = {
  error: (m) => write('error', m),
  warn: (m) => write('warn', m),
  info: (m) => write('info', m),
  debug: (m) => write('debug', m),
  warnOnce(key, m) {
    if (warnedKeys.has(key)) return;
    warnedKeys.add(key);
    write('warn', m);
  },
};

/**
 * Runs `fn`, and on an internal error logs once under `key` and returns `fallback`.
 * Every agent callback that runs inside user code goes through this, so our bugs stay ours.
 */
export function guard<T>(key: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    log.warnOnce(key, `internal error in ${key}, carrying on without it: ${describeError(err)}`);
    return fallback;
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
