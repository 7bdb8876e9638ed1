import t from 'tap';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { Tracer } from '../../../src/api/tracer.js';
import { ROOT } from '../../helpers/run-node.js';
import { instrument, memoryTracer, type TestInstrumentation } from '../../helpers/instrumentation-context.js';

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

/** A tracer for the instrumentation that can be made to throw (pino's proto.js keeps the asJson it got at load). */
function switchableTracer(real: Tracer): { tracer: Tracer; breakIt(): void } {
  let broken = false;
  const tracer = {
    activeSpan: () => {
      if (broken) throw new Error('agent bug');
      return real.activeSpan();
    },
  } as unknown as Tracer;
  return { tracer, breakIt: () => (broken = true) };
}

const loggers = [
  {
    name: 'pino',
    patch: (run: TestInstrumentation) => run.patch(require(path.join(pkg('pino10'), 'lib', 'tools.js'))),
    log(stream: Writable, msg: string) {
      // Required after patching: proto.js takes tools.asJson when it loads.
      const pino = require(pkg('pino10'));
      pino({ base: null, timestamp: false }, stream).info({ n: 1 }, msg);
    },
  },
  {
    name: 'winston',
    patch: (run: TestInstrumentation) => run.patch(require(path.join(pkg('winston3'), 'lib', 'winston', 'logger.js'))),
    log(stream: Writable, msg: string) {
      const winston = require(pkg('winston3'));
      winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }).info(msg, { n: 1 });
    },
  },
  {
    name: 'bunyan',
    patch: (run: TestInstrumentation) => run.patch(require(pkg('bunyan1'))),
    log(stream: Writable, msg: string) {
      require(pkg('bunyan1')).createLogger({ name: 'u', streams: [{ type: 'raw', stream }] }).info({ n: 1 }, msg);
    },
  },
];

for (const logger of loggers) {
  t.test(`${logger.name}: ids in a span, none outside, and an agent error never reaches the log call`, async (t) => {
    const { tracer } = memoryTracer();
    const switchable = switchableTracer(tracer);
    const breakIt = switchable.breakIt;
    // Run as the loader runs it; its undo takes the patch back.
    const run = instrument(logger.name, switchable.tracer);
    logger.patch(run);
    t.teardown(() => run.undo());
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
