import t from 'tap';
// Only the tracer's own module: src/index.js (the public API) requires reference.js itself.
import { Tracer } from '../../../src/tracer.js';
import { SpanContext } from '../../../src/api/span-context.js';
import { FORMAT_BINARY } from '../../../src/api/formats.js';

// The binary format and OpenTracing's references are for API callers only: a traced process builds the tracer
// when it first loads node:http, and what it evaluates then is young state every start keeps (docs/performance.md,
// round eighteen's core room). They load at first use, and work as before then.
const loaded = (file: string): boolean => require.cache[require.resolve(file)] !== undefined;

t.test('loading the tracer leaves the binary format and references unloaded', async (t) => {
  new Tracer({}).startSpan('a').finish();
  t.notOk(loaded('../../../src/api/binary-format.js'), 'binary-format.js not loaded');
  t.notOk(loaded('../../../src/api/reference.js'), 'reference.js not loaded');
});

t.test('the binary format loads at its first use and round-trips a context', async (t) => {
  const tracer = new Tracer({});
  const span = tracer.startSpan('a');
  const carrier: { buffer?: Uint8Array } = {};
  tracer.inject(span, FORMAT_BINARY, carrier);
  t.ok(loaded('../../../src/api/binary-format.js'));
  const extracted = tracer.extract(FORMAT_BINARY, carrier);
  t.ok(extracted instanceof SpanContext);
  t.equal(extracted?.toTraceId(), span.context().toTraceId());
  t.equal(extracted?.toSpanId(), span.context().toSpanId());
  span.finish();
});

t.test('a context source (an object with context()) is a parent, through reference.js loaded then', async (t) => {
  const tracer = new Tracer({});
  const root = tracer.startSpan('root');
  const source = { context: () => root.context() };
  const carrier: Record<string, string> = {};
  tracer.inject(source as never, 'http_headers', carrier);
  t.ok(loaded('../../../src/api/reference.js'));
  t.match(carrier.traceparent, new RegExp(`^00-${root.context().toTraceId()}-${root.context().toSpanId()}-`));
  root.finish();
});
