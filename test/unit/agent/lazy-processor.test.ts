// The span processor built at the first finished span (src/agent/lazy-processor.ts).
import t from 'tap';
import type { Span } from '../../../src/api/span.js';
import type { SpanProcessor } from '../../../src/api/span-processor.js';
import { LazySpanProcessor } from '../../../src/agent/lazy-processor.js';

function recording(): { processor: SpanProcessor; calls: string[] } {
  const calls: string[] = [];
  const processor: SpanProcessor = {
    onEnd: (span) => void calls.push(`onEnd:${(span as unknown as { name: string }).name}`),
    forceFlush: async (deadline) => void calls.push(`forceFlush:${deadline}`),
    shutdown: async () => void calls.push('shutdown'),
    pendingCount: () => calls.length,
  };
  return { processor, calls };
}

t.test('nothing is built until a span ends; flush and shutdown before then have nothing to do', async (t) => {
  let builds = 0;
  const lazy = new LazySpanProcessor(() => (builds++, recording().processor));
  await lazy.forceFlush(123);
  await lazy.shutdown();
  t.equal(lazy.pendingCount(), 0, 'nothing pending');
  t.equal(builds, 0, 'never built');
  t.equal(lazy.isBuilt, false);
});

t.test('the first span builds it once; every call after goes to it', async (t) => {
  const { processor, calls } = recording();
  let builds = 0;
  const lazy = new LazySpanProcessor(() => (builds++, processor));
  lazy.onEnd({ name: 'a' } as unknown as Span);
  lazy.onEnd({ name: 'b' } as unknown as Span);
  await lazy.forceFlush(5);
  t.equal(lazy.pendingCount(), 3, 'pendingCount is the built one\'s');
  await lazy.shutdown();
  t.equal(builds, 1, 'built once');
  t.same(calls, ['onEnd:a', 'onEnd:b', 'forceFlush:5', 'shutdown']);
});

t.test('a build that throws reaches the caller (the tracer guards onEnd) and is tried again next time', async (t) => {
  let builds = 0;
  const lazy = new LazySpanProcessor(() => {
    builds++;
    if (builds === 1) throw new Error('no exporter');
    return recording().processor;
  });
  t.throws(() => lazy.onEnd({ name: 'a' } as unknown as Span), /no exporter/);
  lazy.onEnd({ name: 'b' } as unknown as Span);
  t.equal(builds, 2);
  t.equal(lazy.isBuilt, true);
});
