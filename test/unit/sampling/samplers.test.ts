import t from 'tap';
import { Tracer, InMemorySpanExporter, SpanContext, FORMAT_HTTP_HEADERS } from '../../../src/index.js';
import { createSampler } from '../../../src/sampling/factory.js';
import { TraceIdRatioSampler, traceIdBucket } from '../../../src/sampling/ratio.js';
import { RateLimitingSampler } from '../../../src/sampling/rate-limit.js';
import { AlwaysOnSampler } from '../../../src/sampling/sampler.js';
import { newTraceId } from '../../../src/util/ids.js';

const sampledParent = new SpanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 0x01, '', null, true);
const unsampledParent = new SpanContext('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 0x00, '', null, true);

t.test('the factory builds what each name promises', async (t) => {
  const cases: [Parameters<typeof createSampler>[0], string][] = [
    [{ sampler: 'always_on', rate: 1, rateLimit: 0 }, 'always_on'],
    [{ sampler: 'always_off', rate: 1, rateLimit: 0 }, 'always_off'],
    [{ sampler: 'ratio', rate: 0.25, rateLimit: 0 }, 'ratio(0.25)'],
    [{ sampler: 'parent_based', rate: 1, rateLimit: 0 }, 'parent_based(always_on)'],
    [{ sampler: 'parent_based', rate: 0.1, rateLimit: 0 }, 'parent_based(ratio(0.1))'],
    [{ sampler: 'parent_based_ratio', rate: 0.5, rateLimit: 0 }, 'parent_based(ratio(0.5))'],
    [{ sampler: 'parent_based', rate: 1, rateLimit: 5 }, 'parent_based(rate_limited(always_on, 5/s))'],
    [{ sampler: 'ratio', rate: 7, rateLimit: 0 }, 'ratio(1)'],
  ];
  for (const [cfg, expected] of cases) t.equal(createSampler(cfg).toString(), expected, JSON.stringify(cfg));
});

t.test('parent_based follows the caller, whatever the root rule', async (t) => {
  const sampler = createSampler({ sampler: 'parent_based', rate: 0, rateLimit: 0 });
  t.equal(sampler.shouldSample(sampledParent, sampledParent.traceId, 'x', undefined), true);
  t.equal(sampler.shouldSample(unsampledParent, unsampledParent.traceId, 'x', undefined), false);
  t.equal(sampler.shouldSample(null, newTraceId(), 'x', undefined), false, 'a root uses the root rule (rate 0)');
  const all = createSampler({ sampler: 'parent_based', rate: 1, rateLimit: 0 });
  t.equal(all.shouldSample(unsampledParent, unsampledParent.traceId, 'x', undefined), false, 'an unsampled caller wins over rate 1');
});

t.test('ratio decides from the trace id: every instance agrees, and the share is about right', async (t) => {
  const a = new TraceIdRatioSampler(0.3);
  const b = new TraceIdRatioSampler(0.3);
  let kept = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const id = newTraceId();
    const decision = a.shouldSample(null, id);
    if (decision !== b.shouldSample(null, id)) t.fail(`instances disagree on ${id}`);
    if (decision) kept++;
  }
  // 20,000 draws at p=0.3 have a standard deviation of ~65; 0.27..0.33 is a ±9σ band.
  t.ok(kept / n > 0.27 && kept / n < 0.33, `kept ${kept} of ${n}`);
  t.equal(traceIdBucket('00000000000000000000000000000000'), 0);
  t.equal(traceIdBucket('ffffffffffffffffffffffffffffffff'), 2 ** 52 - 1);
  t.equal(new TraceIdRatioSampler(0.5).shouldSample(null, '0000000000000000000' + '0000000000001'), true, 'low bucket in');
  t.equal(new TraceIdRatioSampler(0.5).shouldSample(null, '0000000000000000000' + 'fffffffffffff'), false, 'high bucket out');
});

t.test('the rate limit caps new traces per second and refills with time; children are not limited', async (t) => {
  let now = 0;
  const sampler = new RateLimitingSampler(new AlwaysOnSampler(), 2, () => now);
  const roots = (): number => {
    let yes = 0;
    for (let i = 0; i < 10; i++) if (sampler.shouldSample(null, newTraceId(), 'x', undefined)) yes++;
    return yes;
  };
  t.equal(roots(), 2, 'a full bucket lets 2 in');
  t.equal(sampler.shouldSample(sampledParent, sampledParent.traceId, 'x', undefined), true, 'a child of a recorded trace is recorded');
  now += 500;
  t.equal(roots(), 1, 'half a second refills one token');
  now += 10_000;
  t.equal(roots(), 2, 'the bucket holds at most one second');
});

t.test('an unsampled trace records nothing and still propagates with the sampled flag off', async (t) => {
  const exporter = new InMemorySpanExporter();
  const tracer = new Tracer({ processor: exporter, sampler: createSampler({ sampler: 'always_off', rate: 1, rateLimit: 0 }) });
  const root = tracer.startSpan('root');
  root.setTag('k', 'v');
  const child = tracer.startSpan('child', { childOf: root });
  const headers: Record<string, string> = {};
  tracer.inject(child, FORMAT_HTTP_HEADERS, headers);
  child.finish();
  root.finish();
  t.equal(root.isRecording(), false);
  t.same(root.tags, {}, 'tags are not kept');
  t.equal(exporter.getFinishedSpans().length, 0);
  t.match(headers.traceparent, new RegExp(`^00-${root.context().traceId}-${child.context().spanId}-0[02]$`));
});
