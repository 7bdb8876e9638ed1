import t from 'tap';
import { load } from './helpers.js';

const files = {
  '/virtual/app/package.json': JSON.stringify({ name: 'shop-api', version: '2.0.1' }),
  '/virtual/app/src/package.json': JSON.stringify({ type: 'module' }),
  '/virtual/other/package.json': JSON.stringify({ name: 'worker', version: '0.3.0' }),
  '/virtual/app/node_modules/next/package.json': JSON.stringify({ name: 'next', version: '14.0.0' }),
};

t.test('the default service name and version come from the nearest named package.json', async (t) => {
  const fromScript = load({}, files, '/virtual/other/bin/run.js');
  t.equal(fromScript.config.serviceName, 'worker', "the main script's package wins over cwd");
  t.equal(fromScript.config.serviceVersion, '0.3.0');
  t.equal(fromScript.sources.TRACING_SERVICE_NAME, 'package.json /virtual/other/package.json');

  const nested = load({}, files, '/virtual/app/src/index.js');
  t.equal(nested.config.serviceName, 'shop-api', 'a package.json without a name is skipped');

  const cli = load({}, files, '/virtual/app/node_modules/next/dist/bin/next');
  t.equal(cli.config.serviceName, 'shop-api', 'a main script inside node_modules falls back to cwd');

  t.equal(load({}, {}, '').config.serviceName, 'unknown_service:node', 'nothing found: the OpenTelemetry default');
});

t.test('the package.json version only goes with the package.json name', async (t) => {
  const r = load({ TRACING_SERVICE_NAME: 'explicit' }, files, '/virtual/app/index.js');
  t.equal(r.config.serviceName, 'explicit');
  t.equal(r.config.serviceVersion, '', 'not the version of a package with another name');
  t.equal(r.sources.TRACING_SERVICE_VERSION, 'default');
});
