import { defineInstrumentation, type LogRecordData, type LogsKit, type SpanContext, type Tracer } from '../../src/agent/instrumentation.js';
import { activeContext, addTraceFields, exportRecord, logsKit, severityOfNumber } from './record-fields.js';

/*
 * bunyan 1.x. Each log method builds a fresh record (the logger's and the child's fields, then the
 * call's, serializers applied) and hands it to `Logger#_emit`, which writes it to every stream: raw
 * streams get the object, the others its JSON. The ids are added to that record in `_emit`, so all
 * streams, children (`child` shares the prototype) and levels get them. A `trace_id` the record
 * already has (from `child({ trace_id })` or the call's fields) is kept.
 */

type Emit = (this: unknown, ...args: unknown[]) => unknown;
type BunyanRecord = Record<string, unknown>;

export default defineInstrumentation({
  patch(exports, ctx) {
    const kit = logsKit(ctx);
    if (!kit.injection && kit.emit === null) return;
    const proto = (exports as { prototype?: { _emit?: Emit } } | null)?.prototype;
    if (proto === undefined || proto === null) return;
    ctx.wrap(proto as { _emit: Emit }, '_emit', (original) => emitWrapper(original, ctx.tracer, kit));
  },
});

function emitWrapper(original: Emit, tracer: Tracer, kit: LogsKit): Emit {
  const inject = kit.injection;
  const emit = kit.emit;
  return function _emitWithTrace(this: unknown, rec?: unknown, noemit?: unknown): unknown {
    const context = activeContext(tracer);
    if ((context === null && emit === null) || typeof rec !== 'object' || rec === null) return original.apply(this, arguments as unknown as unknown[]);
    try {
      // `noemit` only asks for the JSON (dtrace probes): nothing is written, nothing is exported.
      if (emit !== null && noemit !== true) emit(recordOf(rec as BunyanRecord, context));
      if (context !== null && inject) addTraceFields(rec as BunyanRecord, context);
    } catch {
      // The record goes out as bunyan made it.
    }
    return original.apply(this, arguments as unknown as unknown[]);
  };
}

/** The record for the logs exporter: the message as body, bunyan's own bookkeeping left out. */
function recordOf(rec: BunyanRecord, context: SpanContext | null): LogRecordData {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(rec)) {
    if (key === 'v' || key === 'level' || key === 'time' || key === 'msg') continue;
    fields[key] = rec[key];
  }
  const level = typeof rec.level === 'number' ? rec.level : 0;
  const time = rec.time instanceof Date ? rec.time.getTime() : Date.now();
  return exportRecord('bunyan', time, severityOfNumber(level), LEVEL_NAMES[level] ?? String(level), rec.msg, fields, context);
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
