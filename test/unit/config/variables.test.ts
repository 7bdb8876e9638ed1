import t from 'tap';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { load } from './helpers.js';

/**
 * One row per TRACING_* variable: a good value and where it lands, a bad value and the text its
 * warning must carry (what is accepted). The bad value must give exactly one warning and the default.
 */
interface Row {
  variable: string;
  good: string;
  expected: unknown;
  bad: string;
  accepted: RegExp;
  get: (c: Config) => unknown;
}

const rows: Row[] = [
  { variable: 'TRACING_ENABLED', good: 'false', expected: false, bad: 'maybe', accepted: /true or false/, get: (c) => c.enabled },
  { variable: 'TRACING_SERVICE_NAME', good: ' checkout ', expected: 'checkout', bad: 'check\nout', accepted: /non-empty/, get: (c) => c.serviceName },
  { variable: 'TRACING_SERVICE_VERSION', good: '1.2.3', expected: '1.2.3', bad: '1.0\u0007', accepted: /non-empty/, get: (c) => c.serviceVersion },
  { variable: 'TRACING_ENVIRONMENT', good: 'prod', expected: 'prod', bad: 'pr\tod', accepted: /non-empty/, get: (c) => c.environment },
  { variable: 'TRACING_TAGS', good: 'team=payments, tier = gold', expected: { team: 'payments', tier: 'gold' }, bad: 'team', accepted: /key=value pairs/, get: (c) => ({ ...c.tags }) },
  { variable: 'TRACING_EXPORTER', good: 'zipkin, console', expected: ['zipkin', 'console'], bad: 'jagger', accepted: /otlp, zipkin, console, file, none/, get: (c) => c.export.exporters },
  { variable: 'TRACING_EXPORTER_PROTOCOL', good: 'HTTP/JSON', expected: 'http/json', bad: 'grpc-web', accepted: /http\/protobuf, http\/json, grpc/, get: (c) => c.export.protocol },
  { variable: 'TRACING_ENDPOINT', good: 'https://otel.example:4318/v1/traces', expected: 'https://otel.example:4318/v1/traces', bad: 'ftp://x', accepted: /http:\/\/ or https:\/\/ URL/, get: (c) => c.export.endpoint },
  { variable: 'TRACING_ZIPKIN_ENDPOINT', good: 'http://zipkin:9411/api/v2/spans', expected: 'http://zipkin:9411/api/v2/spans', bad: 'not a url', accepted: /URL/, get: (c) => c.export.zipkinEndpoint },
  { variable: 'TRACING_EXPORTER_COMPRESSION', good: 'gzip', expected: 'gzip', bad: 'brotli', accepted: /gzip, none/, get: (c) => c.export.compression },
  { variable: 'TRACING_EXPORTER_TIMEOUT_MS', good: '2500', expected: 2500, bad: '0', accepted: /integer from 1 to 600000/, get: (c) => c.export.timeoutMs },
  { variable: 'TRACING_CONSOLE_FORMAT', good: 'json', expected: 'json', bad: 'yaml', accepted: /tree, json/, get: (c) => c.export.consoleFormat },
  { variable: 'TRACING_FILE', good: '/var/log/spans.jsonl', expected: '/var/log/spans.jsonl', bad: 'spans\u0000.jsonl', accepted: /non-empty/, get: (c) => c.export.file },
  { variable: 'TRACING_BATCH_QUEUE_SIZE', good: '100', expected: 100, bad: '-5', accepted: /integer from 1/, get: (c) => c.export.batch.maxQueueSize },
  { variable: 'TRACING_BATCH_SIZE', good: '64', expected: 64, bad: '1.5', accepted: /integer from 1/, get: (c) => c.export.batch.maxExportBatchSize },
  { variable: 'TRACING_BATCH_DELAY_MS', good: '0', expected: 0, bad: '0x10', accepted: /integer from 0/, get: (c) => c.export.batch.scheduledDelayMs },
  { variable: 'TRACING_EXPORT_BAGGAGE', good: 'yes', expected: true, bad: 'sure', accepted: /true or false/, get: (c) => c.export.exportBaggage },
  { variable: 'TRACING_SAMPLER', good: 'ratio', expected: 'ratio', bad: 'always', accepted: /always_on, always_off, ratio, parent_based/, get: (c) => c.sampling.sampler },
  { variable: 'TRACING_SAMPLE_RATE', good: '0.25', expected: 0.25, bad: '1.5', accepted: /number from 0 to 1/, get: (c) => c.sampling.rate },
  { variable: 'TRACING_RATE_LIMIT', good: '0.5', expected: 0.5, bad: 'fast', accepted: /number 0 or more/, get: (c) => c.sampling.rateLimit },
  { variable: 'TRACING_PROPAGATION', good: 'b3multi,tracecontext,jaeger', expected: ['b3multi', 'tracecontext', 'jaeger'], bad: 'w3c', accepted: /tracecontext, baggage, b3, b3multi, jaeger/, get: (c) => c.propagation },
  { variable: 'TRACING_DISABLED_INSTRUMENTATIONS', good: 'koa,http', expected: ['koa', 'http'], bad: 'not a name!', accepted: /http, https, undici, fetch, express, fastify, koa, hapi/, get: (c) => c.disabledInstrumentations },
  { variable: 'TRACING_ENABLED_INSTRUMENTATIONS', good: 'express', expected: ['express'], bad: '$$$', accepted: /express/, get: (c) => c.enabledInstrumentations },
  { variable: 'TRACING_IMPORT_HOOK', good: 'Always', expected: 'always', bad: 'thread', accepted: /auto, always, never/, get: (c) => c.importHook },
  { variable: 'TRACING_PEER_SERVICES', good: 'DB.internal=postgres,api:8080=billing', expected: { 'db.internal': 'postgres', 'api:8080': 'billing' }, bad: 'a b=c', accepted: /host\[:port\]=value/, get: (c) => ({ ...c.peerServices }) },
  { variable: 'TRACING_LOG_LEVEL', good: 'DEBUG', expected: 'debug', bad: 'verbose', accepted: /none, error, warn, info, debug/, get: (c) => c.logLevel },
];

t.test('defaults: no variable set gives the documented defaults, all from "default", and no warning', async (t) => {
  const r = load({});
  t.same(r.warnings, []);
  t.same(r.config, defaultConfig());
  for (const row of rows) t.equal(r.sources[row.variable], 'default', row.variable);
});

for (const row of rows) {
  t.test(row.variable, async (t) => {
    const good = load({ [row.variable]: row.good });
    t.same(good.warnings, [], 'a good value gives no warning');
    t.same(row.get(good.config as Config), row.expected, 'a good value is used');
    t.equal(good.sources[row.variable], row.variable, 'its source is recorded');

    const bad = load({ [row.variable]: row.bad });
    t.equal(bad.warnings.length, 1, 'a bad value gives exactly one warning');
    const w = bad.warnings[0] ?? '';
    t.ok(w.startsWith(`${row.variable}:`), `the warning names the variable: ${w}`);
    t.ok(w.includes(row.bad.trim().toLowerCase()) || w.includes(JSON.stringify(row.bad)), 'the warning shows the value');
    t.match(w, row.accepted, 'the warning says what is accepted');
    t.match(w, /using the default/, 'the warning says the default is used');
    t.same(row.get(bad.config as Config), row.get(defaultConfig()), 'the default is used');
    t.equal(bad.sources[row.variable], 'default');
  });
}

t.test('an empty variable counts as unset', async (t) => {
  const r = load({ TRACING_SAMPLE_RATE: '', TRACING_SERVICE_NAME: '  ' });
  t.equal(r.config.sampling.rate, 1);
  t.equal(r.sources.TRACING_SAMPLE_RATE, 'default');
  t.same(r.warnings, []);
});

t.test('unknown names get the closest known one', async (t) => {
  t.match(load({ TRACING_EXPORTER: 'zipkn' }).warnings[0], /unknown exporter "zipkn" \(did you mean "zipkin"\?\)/);
  t.match(load({ TRACING_SAMPLER: 'parentbased' }).warnings[0], /did you mean "parent_based"/);
  t.match(load({ TRACING_DISABLED_INSTRUMENTATIONS: 'exprss' }).warnings[0], /unknown instrumentation "exprss" \(did you mean "express"\?\)/);
  t.match(load({ TRACING_PROPAGATION: 'b3-multi' }).warnings[0], /did you mean "b3multi"/);
  t.notMatch(load({ TRACING_DISABLED_INSTRUMENTATIONS: 'mongodb' }).warnings[0], /did you mean/, 'nothing close: no suggestion');
});

t.test('a list keeps its known names and warns once about the unknown ones', async (t) => {
  const r = load({ TRACING_DISABLED_INSTRUMENTATIONS: 'koa, exprss, mongodb, koa, bad name!' });
  t.same(r.config.disabledInstrumentations, ['koa', 'exprss', 'mongodb'], 'unknown but name-like entries are kept: they may name an instrumentation the user registered');
  t.equal(r.warnings.length, 1);
  t.match(r.warnings[0], /"exprss".*"express".*"mongodb".*"bad name!"/);
});

t.test('"none" switches exporting or propagation off, and only alone', async (t) => {
  t.same(load({ TRACING_EXPORTER: 'none' }).config.export.exporters, ['none']);
  t.same(load({ TRACING_PROPAGATION: 'none' }).config.propagation, []);
  const mixed = load({ TRACING_EXPORTER: 'none,console' });
  t.same(mixed.config.export.exporters, ['console']);
  t.match(mixed.warnings[0], /"none" cannot be combined/);
});

t.test('exporter headers are parsed, percent-decoded, and never shown in a warning', async (t) => {
  const r = load({ TRACING_EXPORTER_HEADERS: 'Authorization=Bearer abc%2Cdef==, x-team=a' });
  t.same({ ...r.config.export.headers }, { authorization: 'Bearer abc,def==', 'x-team': 'a' });
  t.same(r.warnings, []);
  const secret = 'sup3r-s3cret-value';
  const bad = load({ TRACING_EXPORTER_HEADERS: `bad header=${secret}` });
  t.equal(bad.warnings.length, 1);
  t.notMatch(bad.warnings[0], secret, 'the secret never appears');
  t.notMatch(bad.warnings[0], 'bad header', 'not even the part before "="');
  t.match(bad.warnings[0], /^TRACING_EXPORTER_HEADERS: .*secret.*header-name=value pairs.*using the default/);
  t.same({ ...bad.config.export.headers }, {});
  const crlf = load({ TRACING_EXPORTER_HEADERS: 'x-a=1%0D%0Ax-b: 2' });
  t.equal(crlf.warnings.length, 1, 'a header value that would split the request is rejected');
});

t.test('map keys such as __proto__ stay plain data', async (t) => {
  const r = load({ TRACING_TAGS: '__proto__=x,constructor=y' });
  t.equal(Object.getPrototypeOf({}).x, undefined, 'Object.prototype untouched');
  t.equal(r.config.tags['__proto__' as string], 'x');
  t.equal(r.config.tags.constructor, 'y');
});

t.test('a batch larger than the queue is clamped with one warning', async (t) => {
  const r = load({ TRACING_BATCH_QUEUE_SIZE: '100', TRACING_BATCH_SIZE: '500' });
  t.equal(r.config.export.batch.maxExportBatchSize, 100);
  t.equal(r.warnings.length, 1);
  t.match(r.warnings[0], /^TRACING_BATCH_SIZE: 500 .*larger than the queue.*using 100/);
  const defaultBatch = load({ TRACING_BATCH_QUEUE_SIZE: '100' });
  t.equal(defaultBatch.config.export.batch.maxExportBatchSize, 100, 'the default batch follows a smaller queue');
  t.same(defaultBatch.warnings, [], 'silently, since the user set nothing wrong');
});

t.test('loading never throws, whatever the environment holds', async (t) => {
  const weird = ['', ' ', ',', '=', '==,==', '%', '\u0000', 'x'.repeat(10_000), '{"a":1}', '[]', 'NaN', 'Infinity', '-0', '1e309'];
  for (const value of weird) {
    const env: NodeJS.ProcessEnv = {};
    for (const row of rows) env[row.variable] = value;
    t.doesNotThrow(() => load(env), JSON.stringify(value).slice(0, 20));
  }
});
