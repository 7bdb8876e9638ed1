import { defineInstrumentation, type LogRecordData, type LogsKit, type SpanContext, type Tracer } from '../../src/agent/instrumentation.js';
import { activeContext, addTraceFields, exportRecord, hasTraceId, logsKit, severityOfName } from './record-fields.js';

/*
 * winston 3. Every record of a logger, its children (`logger.child` calls the parent's `write`), and
 * `logger.log`/`info`/`profile` enters the logger's stream through `Logger#write`, synchronously in
 * the caller's context. The ids are added there, before the format pipeline: `format.json`,
 * `format.printf` (as `info.trace_id`), `format.combine` and every transport then see them.
 * Not as a format of ours: formats run in the stream's `_transform`, which a busy stream (a slow
 * transport, a full buffer) defers to a later tick, where the active span may be another request's.
 *
 * The app's own object (`logger.info({ ... })` writes it as is) is never changed: a plain object
 * is copied before the fields are added. An `Error` logged directly keeps its identity (formats
 * test `instanceof Error`) and gets the fields on itself. A `trace_id` already set is kept.
 */

type Info = Record<PropertyKey, unknown>;
type Write = (this: unknown, ...args: unknown[]) => unknown;

export default defineInstrumentation({
  patch(exports, ctx) {
    const kit = logsKit(ctx);
    if (!kit.injection && kit.emit === null) return;
    const proto = (exports as { prototype?: { write?: Write } } | null)?.prototype;
    if (proto === undefined || proto === null) return;
    ctx.wrap(proto as { write: Write }, 'write', (original) => writeWrapper(original, ctx.tracer, kit));
  },
});

function writeWrapper(original: Write, tracer: Tracer, kit: LogsKit): Write {
  const inject = kit.injection;
  const emit = kit.emit;
  return function writeWithTrace(this: unknown, info?: unknown): unknown {
    const context = activeContext(tracer);
    if ((context === null && emit === null) || typeof info !== 'object' || info === null) return original.apply(this, arguments as unknown as unknown[]);
    let record = info as Info;
    try {
      if (emit !== null) emit(recordOf(record, context));
      if (context !== null && inject && !hasTraceId(record)) {
        if (isPlainObject(record)) record = Object.assign({}, record);
        addTraceFields(record, context);
      }
    } catch {
      record = info as Info;
    }
    const args = Array.prototype.slice.call(arguments) as unknown[];
    args[0] = record;
    return original.apply(this, args);
  };
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The record for the logs exporter, as logged (before formats, which run later on the stream). */
function recordOf(info: Info, context: SpanContext | null): LogRecordData {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    fields[key] = info[key];
  }
  const level = typeof info.level === 'string' ? info.level : '';
  return exportRecord('winston', Date.now(), severityOfName(level), level, info.message, fields, context);
}
