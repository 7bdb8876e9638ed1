import t from 'tap';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REGISTER, ROOT, runNode } from '../../helpers/run-node.js';
import { Collector } from '../../helpers/collector.js';
import { fixturePath } from '../../helpers/fixture-app.js';

// OTLP/HTTP to an `https:` endpoint, the zero-code way, against a real TLS server in this process with
// the http suite's self-signed certificate for 127.0.0.1 and localhost (test/integration/http/fixtures).
// The agent has no TLS settings of its own: it uses Node's trust store, so a private CA is trusted the
// way Node documents, with NODE_EXTRA_CA_CERTS — and without it the certificate is refused, never
// silently accepted.
const CERT = fixturePath('http', 'tls-cert.pem');
const tls = { key: readFileSync(fixturePath('http', 'tls-key.pem')), cert: readFileSync(CERT) };
const SCRIPT = path.join(ROOT, 'test/integration/export/fixtures/short-script.cjs');

t.test('https endpoint with a private CA trusted through NODE_EXTRA_CA_CERTS: the spans arrive over TLS', async (t) => {
  const collector = await Collector.start({ tls });
  t.teardown(() => collector.close());
  t.match(collector.otlpUrl, /^https:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
  const run = await runNode(['--import', REGISTER, SCRIPT], { env: { NODE_EXTRA_CA_CERTS: CERT, TRACING_ENDPOINT: collector.otlpUrl, TRACING_SERVICE_NAME: 'tls-script' } });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, '', 'nothing on stderr');
  t.same(collector.decodeErrors, []);
  t.same(collector.spans.map((s) => s.kind).sort(), [2, 3], 'the server span and the client span, decoded with the official definitions');
  t.equal(new Set(collector.spans.map((s) => s.traceId)).size, 1, 'one trace');
  t.equal(collector.spans[0]!.resource['service.name'], 'tls-script');
  t.equal(collector.requests[0]!.contentType, 'application/x-protobuf');
});

t.test('https endpoint whose certificate is not trusted: nothing is sent, the drop says why', async (t) => {
  const collector = await Collector.start({ tls });
  t.teardown(() => collector.close());
  const run = await runNode(['--import', REGISTER, SCRIPT], { env: { TRACING_ENDPOINT: collector.otlpUrl, TRACING_LOG_LEVEL: 'debug' } });
  t.equal(run.code, 0, run.stderr);
  t.equal(collector.requests.length, 0, 'no request got through the TLS handshake');
  t.match(run.stderr, /otlp exporter \(https:\/\/127\.0\.0\.1:\d+\/v1\/traces\): dropped 2 span\(s\): at exit: self[- ]signed certificate/);
});
