import t from 'tap';
import { runNode, REGISTER } from '../../helpers/run-node.js';

// The package resolves itself by name from inside its own folder (package "exports" self-reference),
// which is exactly how an app that installed it would resolve it.
t.test('a CommonJS app can require the API by package name', async (t) => {
  const r = await runNode(['-e', `
    const api = require('@acme/tracing-agent');
    const tracer = new api.Tracer();
    const span = tracer.startSpan('x');
    console.log(typeof api.globalTracer, api.FORMAT_HTTP_HEADERS, span.context().toTraceId().length);
  `]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'function http_headers 32');
});

t.test('an ES-module app can import named exports by package name', async (t) => {
  const r = await runNode(['--input-type=module', '-e', `
    import { Tracer, globalTracer, FORMAT_TEXT_MAP, Tags } from '@acme/tracing-agent';
    import defaultExport from '@acme/tracing-agent';
    const tracer = new Tracer();
    console.log(typeof globalTracer, FORMAT_TEXT_MAP, Tags.PEER_SERVICE, typeof defaultExport.Tracer, tracer.startSpan('y').context().toSpanId().length);
  `]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'function text_map peer.service function 16');
});

t.test('the register entry starts a global tracer under --import and --require', async (t) => {
  const script = `
    const { globalTracer } = require('@acme/tracing-agent');
    globalTracer().startActiveSpan('from-app', {}, (span) => console.log(span.isRecording(), span.context().traceId.length));
  `;
  for (const flag of ['--import', '--require']) {
    const entry = flag === '--import' ? REGISTER : REGISTER.replace(/\.mjs$/, '.cjs');
    const r = await runNode([flag, entry, '-e', script], { env: { TRACING_EXPORTER: 'console' } });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), 'true 32', `${flag}: the global tracer records`);
    t.match(r.stderr, /from-app/, `${flag}: the finished span reaches the console exporter`);
  }
});
