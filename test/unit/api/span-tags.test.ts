import t from 'tap';
import { InMemorySpanExporter, Tracer } from '../../../src/index.js';
import { mapSpan } from '../../../src/export/span-model.js';

// Tag keys come from users and from request data: names that mean something on ordinary objects
// must be stored as plain tags, never reach Object.prototype, and never show up unasked.
t.test('tag keys named like Object.prototype members are plain own tags', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter });
  const span = tracer.startSpan('op');
  t.equal('toString' in span.tags, false, 'an empty span inherits nothing');
  span.setTag('__proto__', 'p').setTag('constructor', 'c').addTags({ toString: 't', hasOwnProperty: 'h' });
  span.setTag('db.type', 'sql');
  span.finish();
  const tags = exporter.getFinishedSpans()[0]!.tags;
  t.same(Object.keys(tags), ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'db.type']);
  t.equal(tags['__proto__'], 'p');
  t.equal(tags.toString, 't');
  t.equal(({} as Record<string, unknown>).constructor, Object, 'Object.prototype untouched');
  const unset = tracer.startSpan('other');
  unset.setTag('x', 1);
  t.equal('constructor' in unset.tags, false, 'another span does not see them');
  t.same(mapSpan(span, { exportBaggage: false }).attributes.map((a) => `${a.key}=${a.value}`), [
    '__proto__=p', 'constructor=c', 'toString=t', 'hasOwnProperty=h', 'db.type=sql',
  ]);
});
