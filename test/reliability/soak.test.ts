// The long run: a million spans (half sampled) through the real pipeline while the backend goes up
// and down. After warm-up, heap, handles and event-loop delay must not grow, every sampled span must
// be accounted for (exported or counted as dropped), and Node must print no warning.
import t from 'tap';
import * as path from 'node:path';
import { ROOT, runNode } from '../helpers/run-node.js';

interface Window { spans: number; heapUsed: number; handles: number; lagP99Ms: number }
interface Done { done: true; ms: number; sampled: number; dropped: number; exporter: { exportedSpans: number; droppedSpans: number; requests: number }; warnings: string[] }

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

t.test('a million spans with the backend up and down: no growth after warm-up, every drop counted', async (t) => {
  const run = await runNode(['--expose-gc', path.join(ROOT, 'test/reliability/fixtures/soak.cjs')], { env: { SPANS: '1000000', WINDOW: '100000' }, timeoutMs: 60_000 });
  t.equal(run.code, 0, `the soak ran to its end ${run.stderr}`);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Window & Partial<Done>);
  const windows = lines.filter((l) => l.spans !== undefined) as Window[];
  const done = lines.find((l) => l.done) as unknown as Done;
  t.equal(windows.length, 10, 'ten windows of 100,000 spans');
  const settled = windows.slice(2); // the first 200,000 spans are warm-up (JIT, pools, sockets)
  const heapGrowthMb = (Math.max(...settled.map((w) => w.heapUsed)) - settled[0]!.heapUsed) / 2 ** 20;
  t.ok(heapGrowthMb < 4, `heap after GC grows ${heapGrowthMb.toFixed(2)} MB over 800,000 spans (bound 4 MB)`);
  t.ok(Math.max(...settled.map((w) => w.handles)) <= settled[0]!.handles + 2, `active handles stay flat (${settled.map((w) => w.handles).join(',')})`);
  const early = mean(settled.slice(0, 3).map((w) => w.lagP99Ms));
  const late = mean(settled.slice(-3).map((w) => w.lagP99Ms));
  t.ok(late <= early * 2 + 50, `event-loop delay p99 does not grow: ${early.toFixed(1)} ms early, ${late.toFixed(1)} ms late`);
  t.equal(done.exporter.exportedSpans + done.exporter.droppedSpans + done.dropped, done.sampled, `every sampled span exported or counted as dropped (${done.sampled} sampled, ${done.exporter.exportedSpans} exported)`);
  t.ok(done.exporter.exportedSpans > 0 && done.exporter.droppedSpans > 0, 'the backend was both up and down during the run');
  t.same(done.warnings, [], 'no process warning (MaxListenersExceededWarning included) with keep-alive export sockets');
  t.comment(`soak: ${done.ms} ms, ${done.exporter.requests} export requests`);
});
