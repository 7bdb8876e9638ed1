import t from 'tap';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { InstrumentationContext } from '../../../src/agent/instrumentation.js';
import type { Tracer } from '../../../src/api/tracer.js';
import bunyanInstrumentation from '../../../instrumentations/logs/bunyan.js';
import pinoInstrumentation from '../../../instrumentations/logs/pino.js';
import winstonInstrumentation from '../../../instrumentations/logs/winston.js';
import { ROOT } from '../../helpers/run-node.js';
import { testContext } from '../../helpers/instrumentation-context.js';

// The three logger patches in-process, on the real packages: ids inside a span, nothing outside,
// and a log call that never sees an agent error (a tracer that throws leaves records as they were).
const pkg = (name: string): string => path.join(ROOT, 'node_modules', name);

function lines(): { stream: Writable; out: string[] } {
  const out: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(chunk: unknown, _enc, done) {
      out.push(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? String(chunk) : JSON.stringify(chunk));
      done();
    },
  });
  return { stream, out };
}

/** A context whose tracer can be made to throw (pino's proto.js keeps the asJson it got at load). */
function switchableContext(ctx: InstrumentationContext): { ctx: InstrumentationContext; breakIt(): void } {
  let broken = false;
  const real = ctx.tracer;
  const tracer = {
    activeSpan: () => {
      if (broken) throw new Error('agent bug');
      return real.activeSpan();
    },
  } as unknown as Tracer;
  return { ctx: { ...ctx, tracer }, breakIt: () => (broken = true) };
}

const loggers = [
  {
    name: 'pino',
    patch: (ctx: InstrumentationContext) => pinoInstrumentation.patch(require(path.join(pkg('pino10'), 'lib', 'tools.js')), ctx, pinoInstrumentation.modules[0]!),
    unpatch: (ctx: InstrumentationContext) => ctx.unwrap(require(path.join(pkg('pino10'), 'lib', 'tools.js')), 'asJson'),
    log(stream: Writable, msg: string) {
      // Required after patching: proto.js takes tools.asJson when it loads.
      const pino = require(pkg('pino10'));
      pino({ base: null, timestamp: false }, stream).info({ n: 1 }, msg);
    },
  },
  {
    name: 'winston',
    patch: (ctx: InstrumentationContext) => winstonInstrumentation.patch(require(path.join(pkg('winston3'), 'lib', 'winston', 'logger.js')), ctx, winstonInstrumentation.modules[0]!),
    unpatch: (ctx: InstrumentationContext) => ctx.unwrap(require(path.join(pkg('winston3'), 'lib', 'winston', 'logger.js')).prototype, 'write'),
    log(stream: Writable, msg: string) {
      const winston = require(pkg('winston3'));
      winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }).info(msg, { n: 1 });
    },
  },
  {
    name: 'bunyan',
    patch: (ctx: InstrumentationContext) => bunyanInstrumentation.patch(require(pkg('bunyan1')), ctx, bunyanInstrumentation.modules[0]!),
    unpatch: (ctx: InstrumentationContext) => ctx.unwrap(require(pkg('bunyan1')).prototype, '_emit'),
    log(stream: Writable, msg: string) {
      require(pkg('bunyan1')).createLogger({ name: 'u', streams: [{ type: 'raw', stream }] }).info({ n: 1 }, msg);
    },
  },
];

for (const logger of loggers) {
  t.test(`${logger.name}: ids in a span, none outside, and an agent error never reaches the log call`, async (t) => {
    const test = testContext();
    const { tracer } = test;
    const { ctx, breakIt } = switchableContext(test.ctx);
    logger.patch(ctx);
    t.teardown(() => logger.unpatch(ctx));
    const { stream, out } = lines();
    logger.log(stream, 'outside');
    let traceId = '';
    let spanId = '';
    tracer.startActiveSpan('work', {}, (span) => {
      traceId = span.context().traceId;
      spanId = span.context().spanId;
      logger.log(stream, 'inside');
    });
    await new Promise((r) => setImmediate(r));
    const [outside, inside] = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    t.equal(outside?.trace_id, undefined, 'no trace_id outside a span');
    t.equal(outside?.span_id, undefined, 'no span_id outside a span');
    t.equal(inside?.trace_id, traceId, 'trace_id of the active span');
    t.equal(inside?.span_id, spanId, 'span_id of the active span');
    t.equal(inside?.trace_flags, '01', 'sampled');
    t.equal(inside?.n, 1, "the record's own fields are kept");

    breakIt();
    const broken = lines();
    t.doesNotThrow(() => tracer.startActiveSpan('work', {}, () => logger.log(broken.stream, 'agent broken')), 'the log call does not throw');
    await new Promise((r) => setImmediate(r));
    t.equal(broken.out.length, 1, 'the record was still written');
    const rec = JSON.parse(broken.out[0] ?? '{}') as Record<string, unknown>;
    t.equal(rec.n, 1, 'as the app wrote it');
    t.equal(rec.trace_id, undefined, 'without ids');
  });
}
