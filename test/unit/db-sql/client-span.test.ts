import t from 'tap';
import { InMemorySpanExporter, Tracer } from '../../../src/index.js';
import { finishDbSpan, finishingCallback, sanitizeErrorMessage, startDbSpan, type DbOptions } from '../../../instrumentations/db-common/client-span.js';
import { instrument } from '../../helpers/instrumentation-context.js';

/** The `ctx` a database instrumentation (pg) gets, with `section` as its part of the config file. */
const dbContext = (tracer: Tracer, section: Record<string, unknown>) => instrument<DbOptions>('pg', tracer, section).ctx;

t.test('error messages lose their quoted values', async (t) => {
  t.equal(sanitizeErrorMessage(`Incorrect integer value: 'hunter2' for column \`qty\` at row 1`), 'Incorrect integer value: ? for column `qty` at row 1');
  t.equal(sanitizeErrorMessage('invalid input syntax for type integer: "hunter2"'), 'invalid input syntax for type integer: ?');
  t.equal(sanitizeErrorMessage("Duplicate entry 'a@b.c' for key 'email'"), 'Duplicate entry ? for key ?');
  t.equal(sanitizeErrorMessage("near 'hunter2 never closed"), 'near ?', 'an unterminated quote hides the rest');
  t.equal(sanitizeErrorMessage('no quotes here'), 'no quotes here');
  const long = sanitizeErrorMessage('x'.repeat(5000));
  t.ok(long.length <= 1001 && long.endsWith('…'), 'capped');
});

t.test('finishDbSpan: error tags, code, and no value in message or stack unless full', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const err = Object.assign(new Error(`Incorrect integer value: 'hunter2' for column 'qty'`), { code: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD' });
  const before = { message: err.message, stack: err.stack, keys: Object.keys(err) };
  const ctx = dbContext(tracer, { dbRootSpans: true });
  for (const mode of ['sanitized', 'full'] as const) {
    const span = startDbSpan(ctx, 'INSERT orders', { component: 'test', dbType: 'sql' })!;
    finishDbSpan(span, err, mode);
    finishDbSpan(span, new Error('second'), mode);
  }
  const [sanitized, full] = exporter.getFinishedSpans();
  t.equal(exporter.getFinishedSpans().length, 2, 'finished once each');
  for (const s of [sanitized!, full!]) {
    t.equal(s.tags.error, true);
    t.equal(s.tags['db.error.code'], 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD');
    t.equal(s.logs.length, 1, 'one error log: the second finish changed nothing');
  }
  t.notMatch(JSON.stringify(sanitized!.logs), /hunter2/, 'sanitized: the value is not in message or stack');
  t.match(JSON.stringify(sanitized!.logs), /Incorrect integer value: \? for column \?/);
  t.match(JSON.stringify(full!.logs), /hunter2/, 'full: the message as the server wrote it');
  t.same({ message: err.message, stack: err.stack, keys: Object.keys(err) }, before, 'the error object is unchanged');
});

t.test('finishingCallback: finishes first, then calls with the same this and arguments, in the caller\'s scope', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const parent = tracer.startSpan('request');
  const span = tracer.startSpan('SELECT', { childOf: parent });
  const self = {};
  let seen: unknown[] = [];
  const cb = finishingCallback(tracer, span, parent, function (this: unknown, ...args: unknown[]) {
    seen = [this, ...args, span.isFinished(), tracer.scopeManager.active()?.span];
    return 'result';
  });
  t.equal(cb.call(self, null, 'rows', 'fields'), 'result', 'returns what the callback returns');
  t.same(seen, [self, null, 'rows', 'fields', true, parent]);
  t.equal(tracer.scopeManager.active(), null, 'the scope does not leak out');
  const boom = new Error('thrown by the app');
  const throwing = finishingCallback(tracer, tracer.startSpan('x'), null, () => {
    throw boom;
  });
  t.throws(() => (throwing as (err: unknown) => unknown)(null), boom, 'the app\'s throw passes through unchanged');
});

t.test('startDbSpan: peer.service by host:port, else by host, absent when none is configured', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const tagsAt = (peerServices: unknown, hostname: string, port?: number) => {
    startDbSpan(dbContext(tracer, { dbRootSpans: true, peerServices }), 'GET', { component: 'test', dbType: 'redis', hostname, port })!.finish();
    return exporter.getFinishedSpans().at(-1)!.tags;
  };
  const services = { 'db.local:6380': 'cache', 'db.local': 'main-db' };
  t.equal(tagsAt(services, 'db.local', 6380)['peer.service'], 'cache');
  t.equal(tagsAt(services, 'db.local', 5432)['peer.service'], 'main-db');
  t.equal(tagsAt(services, 'db.local')['peer.service'], 'main-db');
  t.equal(tagsAt(services, 'other', 6380)['peer.service'], undefined);
  const plain = tagsAt(undefined, 'db.local', 6380);
  t.equal('peer.service' in plain, false);
  t.equal(plain['peer.hostname'], 'db.local');
  t.equal(plain['peer.port'], 6380);
});
