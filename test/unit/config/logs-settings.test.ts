import t from 'tap';
import * as path from 'node:path';
import { CWD, load } from './helpers.js';

// TRACING_LOGS_INJECTION and TRACING_LOGS_EXPORTER: defaults, the file keys, the OTEL fallback, and a
// bad value that gives one warning naming the variable and what is accepted, the default then used.
t.test('defaults: injection on, no logs exporter', async (t) => {
  const { config, warnings } = load({});
  t.equal(config.logs.injection, true);
  t.equal(config.logs.exporter, 'none');
  t.same(warnings, []);
});

t.test('variables, file keys and OTEL_LOGS_EXPORTER', async (t) => {
  t.equal(load({ TRACING_LOGS_INJECTION: 'false' }).config.logs.injection, false);
  t.equal(load({ TRACING_LOGS_EXPORTER: 'otlp' }).config.logs.exporter, 'otlp');
  t.equal(load({ OTEL_LOGS_EXPORTER: 'otlp' }).config.logs.exporter, 'otlp', 'the OTEL variable is the fallback');
  t.equal(load({ OTEL_LOGS_EXPORTER: 'otlp', TRACING_LOGS_EXPORTER: 'none' }).config.logs.exporter, 'none', 'TRACING_* wins');
  const file = path.join(CWD, 'tracing.json');
  const fromFile = load({ TRACING_CONFIG: file }, { [file]: JSON.stringify({ logsInjection: false, logsExporter: 'otlp' }) }).config;
  t.equal(fromFile.logs.injection, false, 'logsInjection in the file');
  t.equal(fromFile.logs.exporter, 'otlp', 'logsExporter in the file');
});

t.test('a bad value: one warning naming the variable and the accepted values, the default used', async (t) => {
  const injection = load({ TRACING_LOGS_INJECTION: 'sometimes' });
  t.equal(injection.config.logs.injection, true);
  t.equal(injection.warnings.length, 1);
  t.match(injection.warnings[0], /TRACING_LOGS_INJECTION/);
  t.match(injection.warnings[0], /true or false/);
  const exporter = load({ TRACING_LOGS_EXPORTER: 'console' });
  t.equal(exporter.config.logs.exporter, 'none');
  t.equal(exporter.warnings.length, 1);
  t.match(exporter.warnings[0], /TRACING_LOGS_EXPORTER/);
  t.match(exporter.warnings[0], /otlp/);
});
