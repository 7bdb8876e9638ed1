// The exporter is built at the first finished span, not at start: a process that never finishes one
// does not load it (nor http and net, which OTLP/HTTP needs), and a short script that does still gets
// its spans to the collector at exit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { Collector } from '../../helpers/collector.js';
import { REGISTER, runNode, runNodeUntracked } from '../../helpers/run-node.js';

t.test('an app that finishes no span: the OTLP exporter and http are not loaded', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'lazy-exporter-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const exporterFile = path.join(path.dirname(REGISTER), 'dist', 'src', 'export', 'http-exporter.js');
  writeFileSync(
    path.join(dir, 'app.cjs'),
    `const m = require.cache[${JSON.stringify(exporterFile)}];
     // A bundled module is registered in require.cache at start and evaluated on first use: until then its
     // exports are an accessor (of its own, or of its prototype), not a value of its own.
     const own = m === undefined ? undefined : Object.getOwnPropertyDescriptor(m, 'exports');
     const evaluated = own !== undefined && own.get === undefined;
     console.log(JSON.stringify({ http: process.moduleLoadList.includes('NativeModule http'), exporterEvaluated: evaluated, tracer: require(${JSON.stringify(path.dirname(REGISTER))}).globalTracer().constructor.name }));`,
  );
  // Untracked: without the NODE_OPTIONS tap's process tracking adds to every child.
  const r = runNodeUntracked(['--import', REGISTER, path.join(dir, 'app.cjs')], {
    cwd: dir,
    env: { TRACING_ENDPOINT: collector.otlpUrl },
  });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { http: boolean; exporterEvaluated: boolean; tracer: string };
  t.equal(out.http, false, 'http is not loaded');
  t.equal(out.exporterEvaluated, false, 'the OTLP exporter module is not evaluated');
  t.not(out.tracer, 'NoopTracer', 'the agent is tracing');
  t.equal(collector.requests.length, 0, 'nothing was sent');
});

t.test('a short script that finishes spans: the exporter built then delivers them at exit', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const script = `
    const tracer = require(${JSON.stringify(path.dirname(REGISTER))}).globalTracer();
    for (const name of ['one', 'two', 'three']) tracer.startSpan(name).finish();
  `;
  const r = await runNode(['--import', REGISTER, '-e', script], { env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_SERVICE_NAME: 'lazy-exporter' } });
  t.equal(r.code, 0, r.stderr);
  const spans = await collector.waitForSpans(3);
  t.same(spans.map((s) => s.name).sort(), ['one', 'three', 'two'], 'all three spans arrive');
  t.equal(spans[0]?.resource['service.name'], 'lazy-exporter', 'with the configured resource');
});
