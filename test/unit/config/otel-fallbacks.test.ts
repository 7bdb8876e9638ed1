import t from 'tap';
import { load } from './helpers.js';

t.test('OTEL_* variables are read when the TRACING_* one is unset', async (t) => {
  const r = load({
    OTEL_SERVICE_NAME: 'cart',
    OTEL_EXPORTER_OTLP_HEADERS: 'api-key=k1',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_PROPAGATORS: 'b3,tracecontext',
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_SDK_DISABLED: 'true',
  });
  t.same(r.warnings, []);
  t.equal(r.config.serviceName, 'cart');
  t.same({ ...r.config.export.headers }, { 'api-key': 'k1' });
  t.equal(r.config.export.protocol, 'http/json');
  t.same(r.config.propagation, ['b3', 'tracecontext']);
  t.same(r.config.export.exporters, ['zipkin']);
  t.equal(r.config.enabled, false);
  t.equal(r.sources.TRACING_SERVICE_NAME, 'OTEL_SERVICE_NAME');
  t.equal(r.sources.TRACING_ENABLED, 'OTEL_SDK_DISABLED');
});

t.test('TRACING_* wins over OTEL_*, which wins over the config file', async (t) => {
  const files = { '/virtual/app/t.json': JSON.stringify({ serviceName: 'from-file', propagation: ['jaeger'] }) };
  const both = load({ TRACING_CONFIG: 't.json', TRACING_SERVICE_NAME: 'mine', OTEL_SERVICE_NAME: 'theirs', OTEL_PROPAGATORS: 'b3' }, files);
  t.equal(both.config.serviceName, 'mine');
  t.same(both.config.propagation, ['b3']);
  t.equal(both.sources.TRACING_PROPAGATION, 'OTEL_PROPAGATORS');
  const fileOnly = load({ TRACING_CONFIG: 't.json' }, files);
  t.equal(fileOnly.config.serviceName, 'from-file');
  t.equal(fileOnly.sources.TRACING_SERVICE_NAME, 'file /virtual/app/t.json');
  t.equal(load({ TRACING_ENABLED: 'true', OTEL_SDK_DISABLED: 'true' }).config.enabled, true);
});

t.test('OTLP endpoints: the generic one gets /v1/traces appended, the traces one is used as is', async (t) => {
  t.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.export.endpoint, 'http://collector:4318/v1/traces');
  t.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' }).config.export.endpoint, 'http://collector:4318/otlp/v1/traces');
  const both = load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' });
  t.equal(both.config.export.endpoint, 'http://b:9999/custom');
  t.equal(both.sources.TRACING_ENDPOINT, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  t.equal(load({ TRACING_ENDPOINT: 'http://c:1/v1/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }).config.export.endpoint, 'http://c:1/v1/traces');
});

t.test('OTEL_TRACES_SAMPLER and _ARG map onto our sampler and rate', async (t) => {
  const cases: Array<[Record<string, string>, string, number]> = [
    [{ OTEL_TRACES_SAMPLER: 'always_on' }, 'always_on', 1],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, 'always_off', 1],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, 'ratio', 0.1],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio' }, 'ratio', 1],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }, 'parent_based', 1],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, 'parent_based', 0],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.3' }, 'parent_based', 0.3],
  ];
  for (const [env, sampler, rate] of cases) {
    const r = load(env);
    t.same([r.config.sampling.sampler, r.config.sampling.rate, r.warnings], [sampler, rate, []], JSON.stringify(env));
  }
  const ours = load({ TRACING_SAMPLER: 'ratio', OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '0.5' });
  t.same([ours.config.sampling.sampler, ours.config.sampling.rate], ['ratio', 1], 'the OTEL argument only goes with the OTEL sampler');
  const rate = load({ TRACING_SAMPLE_RATE: '0.2', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' });
  t.equal(rate.config.sampling.rate, 0.2);

  const unsupported = load({ OTEL_TRACES_SAMPLER: 'jaeger_remote' });
  t.equal(unsupported.warnings.length, 1);
  t.match(unsupported.warnings[0], /^OTEL_TRACES_SAMPLER: unknown OTEL sampler "jaeger_remote".*parentbased_traceidratio.*using the default parent_based/);
  const badArg = load({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' });
  t.equal(badArg.warnings.length, 1);
  t.match(badArg.warnings[0], /^OTEL_TRACES_SAMPLER_ARG: "half" is not accepted; expected a number from 0 to 1; using 1 from OTEL_TRACES_SAMPLER/);
});

t.test('OTEL_RESOURCE_ATTRIBUTES: service name, version and environment lifted, the rest merged under TRACING_TAGS', async (t) => {
  const r = load({
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=billing,service.version=3.1.0,deployment.environment=staging,team=a%2Cb,region=eu',
    TRACING_TAGS: 'region=us',
  });
  t.same(r.warnings, []);
  t.equal(r.config.serviceName, 'billing');
  t.equal(r.config.serviceVersion, '3.1.0');
  t.equal(r.config.environment, 'staging');
  t.same({ ...r.config.tags }, { team: 'a,b', region: 'us' }, 'TRACING_TAGS wins key by key; values are percent-decoded');
  t.equal(r.sources.TRACING_TAGS, 'TRACING_TAGS + OTEL_RESOURCE_ATTRIBUTES');
  t.equal(load({ OTEL_SERVICE_NAME: 'x', OTEL_RESOURCE_ATTRIBUTES: 'service.name=y' }).config.serviceName, 'x', 'OTEL_SERVICE_NAME outranks the attribute');
  const bad = load({ OTEL_RESOURCE_ATTRIBUTES: 'novalue' });
  t.equal(bad.warnings.length, 1, 'a malformed list warns once, not once per lifted key');
  t.match(bad.warnings[0], /^OTEL_RESOURCE_ATTRIBUTES: "novalue" is not accepted/);
});

t.test('other OTEL fallbacks: compression, timeout, batch, zipkin, log level', async (t) => {
  const r = load({
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    OTEL_BSP_MAX_QUEUE_SIZE: '4096',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://z:9411/api/v2/spans',
    OTEL_LOG_LEVEL: 'VERBOSE',
  });
  t.same(r.warnings, []);
  t.same(
    [r.config.export.compression, r.config.export.timeoutMs, r.config.export.batch, r.config.export.zipkinEndpoint, r.config.logLevel],
    ['gzip', 3000, { maxQueueSize: 4096, maxExportBatchSize: 256, scheduledDelayMs: 200 }, 'http://z:9411/api/v2/spans', 'debug'],
  );
  const bad = load({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' });
  t.match(bad.warnings[0], /^OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "thrift"/);
  t.equal(bad.config.export.protocol, 'http/protobuf');
});

t.test('grpc: the Operator\'s variables select OTLP/gRPC to the collector\'s port 4317, the generic endpoint used as is', async (t) => {
  const operator = load({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.observability:4317' });
  t.same(operator.warnings, []);
  t.equal(operator.config.export.protocol, 'grpc');
  t.equal(operator.config.export.endpoint, 'http://collector.observability:4317', 'no /v1/traces appended over gRPC');
  t.equal(operator.sources.TRACING_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const byDefault = load({ TRACING_EXPORTER_PROTOCOL: 'grpc' });
  t.same(byDefault.warnings, []);
  t.equal(byDefault.config.export.endpoint, 'http://localhost:4317', 'the default endpoint is the gRPC port');
  t.equal(load({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).config.export.protocol, 'grpc', 'the traces variable wins');
  t.equal(load({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example:443' }).config.export.endpoint, 'https://otlp.example:443');
  // The HTTP protocols keep appending the signal path.
  t.equal(load({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config.export.endpoint, 'http://c:4318/v1/traces');
});

t.test('grpc with an OTLP/HTTP traces URL: one warning naming both variables; the host and port are used', async (t) => {
  const r = load({ TRACING_EXPORTER_PROTOCOL: 'grpc', TRACING_ENDPOINT: 'http://user:pw@collector:4318/v1/traces' });
  t.equal(r.warnings.length, 1);
  t.match(r.warnings[0], /^TRACING_ENDPOINT: .*is an OTLP\/HTTP traces URL, but TRACING_EXPORTER_PROTOCOL is grpc .*expected the collector's gRPC address, e\.g\. http:\/\/localhost:4317/);
  t.notMatch(r.warnings[0], /pw/, 'credentials are not shown');
  t.equal(r.config.export.endpoint, 'http://user:pw@collector:4318/v1/traces');
});

t.test('a bad TRACING_* value with a good OTEL_* one: one warning, and the OTEL value applies', async (t) => {
  const r = load({ TRACING_SERVICE_NAME: 'a\u0001', OTEL_SERVICE_NAME: 'svc' });
  t.equal(r.config.serviceName, 'svc');
  t.equal(r.warnings.length, 1);
  t.match(r.warnings[0], /^TRACING_SERVICE_NAME: .*using svc from OTEL_SERVICE_NAME\.$/);
  const secret = load({ TRACING_EXPORTER_HEADERS: 'oops', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=token-123' });
  t.match(secret.warnings[0], /using the value from OTEL_EXPORTER_OTLP_HEADERS/);
  t.notMatch(secret.warnings[0], /token-123|oops/);
});
