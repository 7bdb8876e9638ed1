import t from 'tap';
import { describeConfig, redactUrl } from '../../../src/config/describe.js';
import { enabledInstrumentationNames, INSTRUMENTATION_NAMES, isInstrumentationEnabled } from '../../../src/config/instrumentation-names.js';
import { closestName } from '../../../src/config/suggest.js';
import { load } from './helpers.js';

t.test('the start-up line names service, exporter and endpoint, sampler and instrumentations', async (t) => {
  const { config } = load({
    TRACING_SERVICE_NAME: 'checkout',
    TRACING_SERVICE_VERSION: '1.4.0',
    TRACING_ENVIRONMENT: 'prod',
    TRACING_EXPORTER: 'otlp,console',
    TRACING_ENDPOINT: 'https://user:pa55@otel.example/v1/traces?api_key=k3y',
    TRACING_EXPORTER_HEADERS: 'authorization=Bearer t0ken',
    TRACING_SAMPLER: 'ratio',
    TRACING_SAMPLE_RATE: '0.1',
    TRACING_DISABLED_INSTRUMENTATIONS: 'koa,hapi',
  });
  const line = describeConfig(config);
  t.notMatch(line, /\n/, 'one line');
  t.match(line, 'service checkout 1.4.0 (prod)');
  t.match(line, 'exporter otlp http/protobuf to https://[redacted]@otel.example/v1/traces?[redacted] (headers authorization=[redacted]) + console (tree)');
  t.match(line, 'sampler ratio rate 0.1');
  t.match(line, /; instrumentations http,https,undici,fetch,express,fastify,pg,mysql2,ioredis,redis,graphql,pino,winston,bunyan,grpc,amqplib,opentracing,opentelemetry$/);
  for (const secret of ['pa55', 'k3y', 't0ken', 'user']) t.notMatch(line, secret, `${secret} is redacted`);
  t.match(describeConfig(load({ TRACING_ENABLED: 'false' }).config), /disabled/);
});

t.test('redactUrl leaves a plain endpoint alone', async (t) => {
  t.equal(redactUrl('http://localhost:4318/v1/traces'), 'http://localhost:4318/v1/traces');
  t.equal(redactUrl('not a url'), '[redacted]');
});

t.test('enabled/disabled lists: disabled wins, enabled list restricts', async (t) => {
  const { config } = load({ TRACING_ENABLED_INSTRUMENTATIONS: 'http,express', TRACING_DISABLED_INSTRUMENTATIONS: 'express' });
  t.same(enabledInstrumentationNames(config), ['http']);
  t.equal(isInstrumentationEnabled(load({}).config, 'koa'), true);
  t.equal(INSTRUMENTATION_NAMES.length, new Set(INSTRUMENTATION_NAMES).size, 'names are unique');
});

t.test('closestName suggests plausible typos only', async (t) => {
  t.equal(closestName('exrpess', ['express', 'koa']), 'express', 'a transposition is one edit');
  t.equal(closestName('KOA', ['express', 'koa']), 'koa');
  t.equal(closestName('postgres', ['express', 'koa']), null);
});
