import { defineInstrumentation, type LogRecordData, type LogsKit, type SpanContext, type Tracer } from '../../src/agent/instrumentation.js';
import { activeContext, exportRecord, flagsText, logsKit, severityOfNumber, TRACE_ID } from './record-fields.js';

/*
 * pino 7–10. Every record, whatever the logger (children included), the level, the destination
 * (`pino.destination`, a stream, a transport in a worker thread such as `pino-pretty` or
 * `pino/file`), becomes one line in `asJson` (lib/tools.js), called synchronously by the log method,
 * so in the caller's context. We wrap that function once per pino copy and, while a span is active,
 * add `"trace_id","span_id","trace_flags"` to the finished line.
 *
 * Why not a `mixin` (what OpenTelemetry's instrumentation does): pino's main export is the factory
 * function itself, so injecting a mixin means replacing the module (an ES-module `import { pino }`
 * keeps the original) and rewriting the user's options; pino merges by `Object.assign` on the mixin's
 * result, so a mixin must allocate and copy the record on every call, in a trace or not; and a
 * `formatters.log` that rebuilds the object drops what a mixin added. Working on the finished line
 * keeps the user's `mixin`, `formatters`, serializers and redaction exactly as they were, costs
 * one AsyncLocalStorage read outside a trace, and never touches an object the app passed in.
 * pino 9.? and 10 publish a `pino_asJson` tracing channel, but a subscriber can neither change the
 * line nor the arguments without mutating the app's object, so it cannot do this.
 *
 * A field the user already set is kept: a `trace_id` in the logged object (or from the user's
 * `mixin`) or in a child's bindings means the line is left as it is.
 */

type Logger = Record<PropertyKey, unknown> & { levels?: { labels?: Record<number, string> } };
type AsJson = (this: Logger, obj: unknown, msg: unknown, num: number, time: unknown) => unknown;

const hasOwn = Object.prototype.hasOwnProperty;

export default defineInstrumentation({
  patch(exports, ctx) {
    const kit = logsKit(ctx);
    if (!kit.injection && kit.emit === null) return;
    ctx.wrap(exports as { asJson: AsJson }, 'asJson', (original) => asJsonWrapper(original, ctx.tracer, kit));
  },
});

function asJsonWrapper(original: AsJson, tracer: Tracer, kit: LogsKit): AsJson {
  const inject = kit.injection;
  const emit = kit.emit;
  // pino's own symbols, found once per pino copy by their descriptions (lib/symbols.js is not exported).
  const symbols = new PinoSymbols();
  return function asJsonWithTrace(this: Logger, obj: unknown, msg: unknown, num: number, time: unknown): unknown {
    const context = activeContext(tracer);
    const line = original.call(this, obj, msg, num, time);
    if (context === null && emit === null) return line;
    if (typeof line !== 'string') return line;
    if (emit !== null) {
      try {
        emit(recordOf(this, line, num, context, symbols));
      } catch {
        // A line that is not JSON (a user stringifier gone wrong) is not exported; the app's output is unchanged.
      }
    }
    try {
      if (context === null || !inject || userSetTraceId(this, obj, symbols)) return line;
      return withTraceFields(line, context);
    } catch {
      return line;
    }
  };
}

// The three fields as JSON, made once per span: a request's log lines all share its span.
const fieldsBySpan = new WeakMap<SpanContext, string>();

/** The line with the three fields added before its closing brace. */
function withTraceFields(line: string, context: SpanContext): string {
  const close = line.lastIndexOf('}');
  if (close <= 0) return line;
  let fields = fieldsBySpan.get(context);
  if (fields === undefined) {
    fields = `,"trace_id":"${context.traceId}","span_id":"${context.spanId}","trace_flags":"${flagsText(context)}"`;
    fieldsBySpan.set(context, fields);
  }
  return line.slice(0, close) + fields + line.slice(close);
}

function userSetTraceId(logger: Logger, obj: unknown, symbols: PinoSymbols): boolean {
  if (typeof obj === 'object' && obj !== null && hasOwn.call(obj, TRACE_ID)) return true;
  const chindings = symbols.read(logger, 'pino.chindings');
  return typeof chindings === 'string' && chindings.includes(',"trace_id":');
}

/** The record for the logs exporter, from the line pino wrote (serializers and redaction applied). */
function recordOf(logger: Logger, line: string, num: number, context: SpanContext | null, symbols: PinoSymbols): LogRecordData {
  const fields = JSON.parse(line) as Record<string, unknown>;
  const messageKey = symbols.read(logger, 'pino.messageKey');
  const key = typeof messageKey === 'string' ? messageKey : 'msg';
  const body = fields[key];
  const time = fields.time;
  delete fields[key];
  delete fields.level;
  delete fields.time;
  const label = logger.levels?.labels?.[num];
  return exportRecord('pino', typeof time === 'number' ? time : Date.now(), severityOfNumber(num), typeof label === 'string' ? label : String(num), body, fields, context);
}

class PinoSymbols {
  private readonly found = new Map<string, symbol | null>();

  read(logger: Logger, description: string): unknown {
    let sym = this.found.get(description);
    if (sym === undefined) {
      sym = find(logger, description);
      // Not cached when absent: a logger-like object without it says nothing about real loggers.
      if (sym !== null) this.found.set(description, sym);
    }
    return sym === null ? undefined : logger[sym];
  }
}

function find(logger: object, description: string): symbol | null {
  for (let o: object | null = logger; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    for (const s of Object.getOwnPropertySymbols(o)) if (s.description === description) return s;
  }
  return null;
}
