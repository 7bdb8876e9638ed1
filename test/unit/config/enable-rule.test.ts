import t from 'tap';
import * as os from 'node:os';
import { InstrumentationRegistry } from '../../../src/agent/registry.js';
import { Tracer } from '../../../src/tracer.js';
import { reportInstalledModules } from '../../../src/cli/installed-modules.js';
import { describeConfig } from '../../../src/config/describe.js';
import { isInstrumentationEnabled } from '../../../src/config/instrumentation-names.js';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { instrumentations } from '../../../instrumentations/index.js';
import { load } from './helpers.js';

// One enable rule (src/config/instrumentation-names.ts) answers for the configuration, the running
// agent's loader and the `config` command. They used to disagree: with `"koa": false` in the file and
// TRACING_ENABLED_INSTRUMENTATIONS=koa, `tracing-agent config` said koa was on and the agent switched it off.
const FILE = '/virtual/app/tracing.json';
const withFile = (json: unknown, env: NodeJS.ProcessEnv = {}) =>
  load({ TRACING_CONFIG: 'tracing.json', ...env }, { [FILE]: JSON.stringify(json) }).config;

/** What each consumer of the configuration says about `name`. */
function verdicts(config: Readonly<Config>, name: string) {
  const registry = new InstrumentationRegistry();
  for (const entry of instrumentations) void registry.add(entry);
  registry.activate({ ...config, logLevel: 'none' }, new Tracer());
  const row = reportInstalledModules(config, os.tmpdir()).find((r) => r.instrumentation === name);
  return {
    rule: isInstrumentationEnabled(config, name),
    loader: registry.isEnabled(name),
    hooked: registry.watches(name),
    describe: new RegExp(`\\b${name}\\b`).test(describeConfig(config).split('instrumentations')[1] ?? ''),
    configCommand: row !== undefined && !row.why.startsWith('switched off'),
  };
}

const allOn = { rule: true, loader: true, hooked: true, describe: true, configCommand: true };
const allOff = { rule: false, loader: false, hooked: false, describe: false, configCommand: false };

t.test('"koa": false in the file, TRACING_ENABLED_INSTRUMENTATIONS=koa: on everywhere (the environment outranks the file)', async (t) => {
  t.same(verdicts(withFile({ instrumentations: { koa: false } }, { TRACING_ENABLED_INSTRUMENTATIONS: 'koa,http' }), 'koa'), allOn);
});

t.test('"koa": false in the file alone: off everywhere', async (t) => {
  t.same(verdicts(withFile({ instrumentations: { koa: false } }), 'koa'), allOff);
});

t.test('in both lists: off everywhere (opting out is the safer reading)', async (t) => {
  t.same(verdicts(load({ TRACING_ENABLED_INSTRUMENTATIONS: 'koa', TRACING_DISABLED_INSTRUMENTATIONS: 'koa' }).config, 'koa'), allOff);
});

t.test('an enabled list without it: off everywhere', async (t) => {
  t.same(verdicts(load({ TRACING_ENABLED_INSTRUMENTATIONS: 'http' }).config, 'koa'), allOff);
});

t.test('a configuration made by hand with "koa": false: off everywhere', async (t) => {
  t.same(verdicts({ ...defaultConfig(), instrumentations: { koa: false } }, 'koa'), allOff);
});
