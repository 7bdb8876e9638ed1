import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../src/config/load.js';
import { load } from './helpers.js';

const FILE = '/virtual/app/tracing.json';
const withFile = (json: unknown, env: NodeJS.ProcessEnv = {}) =>
  load({ TRACING_CONFIG: 'tracing.json', ...env }, { [FILE]: typeof json === 'string' ? json : JSON.stringify(json) });

t.test('the documented example: per-instrumentation options and an opt-out', async (t) => {
  const r = withFile({ instrumentations: { koa: false, http: { ignorePaths: ['/health'] } } });
  t.same(r.warnings, []);
  t.same(r.config.instrumentations.http, { ignorePaths: ['/health'] });
  t.equal(r.config.instrumentations.koa, false);
  t.same(r.config.disabledInstrumentations, ['koa'], 'false in the file switches the instrumentation off');
  t.equal(r.configFile, path.resolve(FILE));
  t.equal(r.sources.instrumentations, `file ${path.resolve(FILE)}`);
  t.equal(r.sources.TRACING_DISABLED_INSTRUMENTATIONS, `file ${path.resolve(FILE)}`);
});

t.test('the environment outranks the file for switching instrumentations', async (t) => {
  const r = withFile({ instrumentations: { koa: false, hapi: false } }, { TRACING_ENABLED_INSTRUMENTATIONS: 'koa,http', TRACING_DISABLED_INSTRUMENTATIONS: 'express' });
  t.same(r.config.disabledInstrumentations, ['express', 'hapi'], 'koa stays on: the env enables it by name');
  t.same(r.config.enabledInstrumentations, ['koa', 'http']);
});

t.test('settings in the file take native JSON types and the same validation', async (t) => {
  const r = withFile({ sampleRate: 0.5, exporter: ['console', 'file'], tags: { tier: 2, canary: true }, enabled: true, exporterHeaders: { 'x-key': 'v' } });
  t.same(r.warnings, []);
  t.equal(r.config.sampling.rate, 0.5);
  t.same(r.config.export.exporters, ['console', 'file']);
  t.same({ ...r.config.tags }, { tier: 2, canary: true });
  t.same({ ...r.config.export.headers }, { 'x-key': 'v' });
  const bad = withFile({ sampleRate: 'lots' });
  t.equal(bad.warnings.length, 1);
  t.match(bad.warnings[0], /^TRACING_CONFIG="tracing.json" key "sampleRate": "lots" is not accepted; expected a number from 0 to 1; using the default 1\.$/);
});

t.test('file errors: one warning each, naming the file, and the file is ignored', async (t) => {
  const missing = load({ TRACING_CONFIG: 'nope.json' });
  t.equal(missing.warnings.length, 1);
  t.match(missing.warnings[0], /^TRACING_CONFIG="nope.json": the file does not exist; expected a readable JSON file; using no config file\.$/);
  t.equal(missing.configFile, null);
  t.equal(missing.sources.TRACING_CONFIG, 'unset');

  const invalid = withFile('{"instrumentations": {"koa": false,}}');
  t.equal(invalid.warnings.length, 1);
  t.match(invalid.warnings[0], /^TRACING_CONFIG="tracing.json": invalid JSON \(.+\); expected a JSON object/);
  t.same(invalid.config.disabledInstrumentations, []);

  const array = withFile([1, 2]);
  t.match(array.warnings, [/the file holds an array; expected a JSON object/]);
});

t.test('unknown keys and instrumentation names are skipped with the closest known name', async (t) => {
  const r = withFile({ sampelRate: 0.1, instrumentations: { expres: false, fastify: 'off', koa: false } });
  t.equal(r.warnings.length, 3);
  t.match(r.warnings[0], /unknown key "sampelRate" \(did you mean "sampleRate"\?\)/);
  t.match(r.warnings[1], /unknown instrumentation "expres" \(did you mean "express"\?\)/);
  t.match(r.warnings[2], /instrumentations\.fastify is "off"; expected false, true or an options object/);
  t.same(r.config.disabledInstrumentations, ['koa'], 'the valid entry still applies');
});

t.test('an unreadable file on disk (a directory) warns and is ignored', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = loadConfig({ TRACING_CONFIG: dir }, { cwd: dir, mainScript: '' });
  t.equal(r.warnings.length, 1);
  t.match(r.warnings[0], /it is a directory|cannot be read/);
  fs.writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ serviceName: 'disk' }));
  t.equal(loadConfig({ TRACING_CONFIG: 'ok.json' }, { cwd: dir, mainScript: '' }).config.serviceName, 'disk', 'relative paths resolve from cwd');
});
