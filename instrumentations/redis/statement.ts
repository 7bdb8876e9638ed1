import type { DbStatementMode } from '../../src/agent/instrumentation.js';

/**
 * The `db.statement` and operation name of a Redis command, shared by the ioredis and node-redis
 * instrumentations. `sanitized` (the default) keeps the command name and its key only: values,
 * scores, messages and credentials never leave the process. `full` keeps every argument except
 * credentials (AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2, CONFIG SET of a password setting).
 */

/** Longest key kept in a sanitized statement; keys are user data too and can be huge. */
const KEY_CAP = 128;
/** Longest full statement; a pipeline of large values must not become a megabyte tag. */
const STATEMENT_CAP = 1024;
const REDACTED = '?';

// Commands whose first argument is not a key (a subcommand, a password, a script, a count, an option):
// for these the sanitized statement is the name alone. Everything else, module commands included
// (`JSON.GET key`), has its key first.
const NO_KEY_FIRST = new Set([
  'ACL', 'AUTH', 'BGREWRITEAOF', 'BGSAVE', 'BITOP', 'BLMPOP', 'BZMPOP', 'CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG',
  'DBSIZE', 'DEBUG', 'DISCARD', 'ECHO', 'EVAL', 'EVAL_RO', 'EVALSHA', 'EVALSHA_RO', 'EXEC', 'FAILOVER', 'FCALL',
  'FCALL_RO', 'FLUSHALL', 'FLUSHDB', 'FUNCTION', 'HELLO', 'INFO', 'LASTSAVE', 'LATENCY', 'LMPOP', 'LOLWUT',
  'MEMORY', 'MIGRATE', 'MODULE', 'MONITOR', 'MULTI', 'OBJECT', 'PING', 'PSUBSCRIBE',
  'PUBSUB', 'PUNSUBSCRIBE', 'QUIT', 'RANDOMKEY', 'READONLY', 'READWRITE', 'REPLICAOF', 'RESET', 'ROLE', 'SAVE',
  'SCAN', 'SCRIPT', 'SELECT', 'SHUTDOWN', 'SINTERCARD', 'SLAVEOF', 'SLOWLOG', 'SUBSCRIBE', 'SUNSUBSCRIBE', 'SWAPDB',
  'SYNC', 'TIME', 'UNSUBSCRIBE', 'UNWATCH', 'WAIT', 'WAITAOF', 'XREAD', 'XREADGROUP', 'ZDIFF', 'ZDIFFSTORE', 'ZINTER',
  'ZINTERCARD', 'ZINTERSTORE', 'ZUNION', 'ZUNIONSTORE',
]);

// Upper-cased names, cached: ioredis names commands in lower case and the hot path should not
// allocate a new string per command. Bounded, since a user can send any name with `call()`.
const upperNames: Record<string, string> = Object.create(null) as Record<string, string>;
let upperNameCount = 0;
const UPPER_NAME_CACHE_MAX = 512;

/** The operation name of a command: its name in upper case (`GET`, `JSON.SET`). */
export function redisOperationName(name: string): string {
  const cached = upperNames[name];
  if (cached !== undefined) return cached;
  const upper = name.toUpperCase();
  if (upperNameCount < UPPER_NAME_CACHE_MAX) {
    upperNames[name] = upper;
    upperNameCount++;
  }
  return upper;
}

/**
 * The statement for one command. `args` holds the arguments after the command name starting at
 * `from` (node-redis keeps the name at index 0 of the same array, ioredis does not), so no caller
 * has to copy its array. Returns undefined for `off`.
 */
export function redisStatement(mode: DbStatementMode, operation: string, args: readonly unknown[], from = 0): string | undefined {
  if (mode === 'off') return undefined;
  if (mode === 'full') return fullStatement(operation, args, from);
  if (args.length <= from || NO_KEY_FIRST.has(operation)) return operation;
  return `${operation} ${formatArg(args[from], KEY_CAP)}`;
}

function fullStatement(operation: string, args: readonly unknown[], from: number): string {
  if (operation === 'AUTH') return args.length > from ? `${operation} ${REDACTED}` : operation;
  let out = operation;
  let redactNext = 0;
  let configSet = operation === 'CONFIG';
  for (let i = from; i < args.length; i++) {
    let text: string;
    if (redactNext > 0) {
      text = REDACTED;
      redactNext--;
    } else {
      text = formatArg(args[i], STATEMENT_CAP);
      redactNext = credentialsFollow(operation, text);
      if (configSet && i > from && /pass|auth/i.test(text)) redactNext = 1;
      if (i === from) configSet = configSet && text.toUpperCase() === 'SET';
    }
    out += ` ${text}`;
    if (out.length > STATEMENT_CAP) return `${out.slice(0, STATEMENT_CAP)}…`;
  }
  return out;
}

/** How many arguments after `arg` are credentials: `HELLO 3 AUTH user pass`, `MIGRATE … AUTH2 user pass`. */
function credentialsFollow(operation: string, arg: string): number {
  if (operation !== 'HELLO' && operation !== 'MIGRATE') return 0;
  const upper = arg.toUpperCase();
  if (upper === 'AUTH') return operation === 'HELLO' ? 2 : 1;
  if (upper === 'AUTH2') return 2;
  return 0;
}

function formatArg(arg: unknown, cap: number): string {
  let text: string;
  if (typeof arg === 'string') text = arg;
  else if (typeof arg === 'number' || typeof arg === 'bigint' || typeof arg === 'boolean') text = String(arg);
  else if (arg instanceof Uint8Array) return `<${arg.length} bytes>`;
  else if (arg === null || arg === undefined) return String(arg);
  else return `<${typeof arg}>`;
  return text.length > cap ? `${text.slice(0, cap)}…` : text;
}
