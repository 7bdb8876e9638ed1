import * as path from 'node:path';
import t from 'tap';
import { startViewer } from '../../../src/viewer/viewer.js';
import { REGISTER, runNode } from '../../helpers/run-node.js';
import { getJson } from './viewer-client.js';

const APP = path.join(__dirname, '..', '..', '..', '..', 'test', 'integration', 'viewer', 'fixtures', 'app.mjs');

for (const [protocol, compression] of [['http/protobuf', 'none'], ['http/json', 'gzip']] as const) {
  t.test(`a real app under --import ./register.mjs exporting to the viewer (${protocol}, ${compression}): the trace is listed whole`, async (t) => {
    const v = await startViewer({ port: 0, otlpPort: 0 });
    t.teardown(() => v.close());
    const r = await runNode(['--import', REGISTER, APP], {
      env: { TRACING_ENDPOINT: v.otlpUrl, TRACING_SERVICE_NAME: 'shop', TRACING_EXPORTER_PROTOCOL: protocol, TRACING_EXPORTER_COMPRESSION: compression },
      timeoutMs: 20_000,
    });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /checkout:in stock/);
    t.equal(r.stderr, '', 'the agent had nothing to complain about (the viewer accepted every batch)');
    const list = await getJson(`${v.webUrl}/api/traces?service=shop`);
    t.equal(list.traces.length, 1, 'one trace');
    const summary = list.traces[0];
    t.equal(summary.hasRoot, true);
    t.equal(summary.rootService, 'shop');
    t.equal(summary.errorCount, 0);
    const trace = await getJson(`${v.webUrl}/api/traces/${summary.traceId}`);
    t.equal(trace.spans.length, summary.spanCount);
    const byId = new Map(trace.spans.map((s: any) => [s.spanId, s]));
    const root = trace.spans.find((s: any) => s.parentSpanId === '');
    t.equal(root.kind, 'client', 'the first fetch is the root');
    const kinds = trace.spans.map((s: any) => s.kind).sort();
    t.same(kinds, ['client', 'client', 'server', 'server'], 'two fetches, two server spans');
    for (const s of trace.spans) if (s !== root) t.ok(byId.has(s.parentSpanId), `${s.name}: parent is in the trace`);
    t.ok(trace.spans.every((s: any) => s.resource.some((a: any) => a.key === 'telemetry.sdk.name' && a.value === '@acme/tracing-agent')));
  });
}
