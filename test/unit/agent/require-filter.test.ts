import t from 'tap';
import * as path from 'node:path';
import { mayReachTarget } from '../../../src/agent/hooks-cjs.js';
import type { RegistryEntry } from '../../../src/agent/instrumentation.js';
import { InstrumentationRegistry } from '../../../src/agent/registry.js';
import { defaultConfig } from '../../../src/config/load.js';
import { Tracer } from '../../../src/tracer.js';

// The require hook's first check: a require it lets pass is never matched against the
// targets, so it must never say false for a require that can load one.
function registry(): InstrumentationRegistry {
  const r = new InstrumentationRegistry();
  const entry = (name: string, modules: RegistryEntry['modules']): RegistryEntry => ({ name, kind: 'patch', modules, load: () => ({ patch: () => undefined }) });
  void r.add(entry('http', [{ name: 'http', versions: '*' }]));
  void r.add(entry('express', [{ name: 'express', versions: '>=4 <6' }]));
  void r.add(entry('pg', [{ name: 'pg', versions: '>=8 <9', file: 'lib/client.js' }]));
  void r.add(entry('hapi', [{ name: '@hapi/hapi', versions: '>=21 <22', file: 'lib/request.js' }]));
  r.activate({ ...defaultConfig(), logLevel: 'none' }, new Tracer());
  return r;
}

const app = { filename: path.join(path.sep, 'srv', 'app', 'index.js') };
const inside = (pkg: string) => ({ filename: path.join(path.sep, 'srv', 'app', 'node_modules', ...pkg.split('/'), 'lib', 'index.js') });

t.test('built-ins: only the targeted ones, with or without node:', async (t) => {
  const r = registry();
  t.ok(mayReachTarget(r, 'http', app));
  t.ok(mayReachTarget(r, 'node:http', app));
  t.notOk(mayReachTarget(r, 'fs', app));
  t.notOk(mayReachTarget(r, 'node:path', app));
});

t.test('packages: by the name the specifier names, scoped or not, entry or file', async (t) => {
  const r = registry();
  t.ok(mayReachTarget(r, 'express', app));
  t.ok(mayReachTarget(r, 'express/lib/router', app));
  t.ok(mayReachTarget(r, 'pg', app));
  t.ok(mayReachTarget(r, '@hapi/hapi', app));
  t.ok(mayReachTarget(r, '@hapi/hapi/lib/request.js', app));
  t.notOk(mayReachTarget(r, '@hapi/boom', app));
  t.notOk(mayReachTarget(r, 'lodash', app));
  t.notOk(mayReachTarget(r, 'expressive', app), 'a name that starts like a target is not one');
});

t.test('paths: by the package folder they land in', async (t) => {
  const r = registry();
  t.ok(mayReachTarget(r, './client', inside('pg')), "pg's own files");
  t.ok(mayReachTarget(r, '../request', inside('@hapi/hapi')));
  t.ok(mayReachTarget(r, '../../express', inside('body-parser')), 'from a neighbour into a target');
  t.ok(mayReachTarget(r, './node_modules/express', app));
  t.ok(mayReachTarget(r, path.join(path.sep, 'srv', 'app', 'node_modules', 'express', 'index.js'), app), 'an absolute path');
  t.notOk(mayReachTarget(r, './util', inside('body-parser')));
  t.notOk(mayReachTarget(r, '../../pg-like', inside('pg')), 'out of the target package');
  t.notOk(mayReachTarget(r, './routes', app), "the app's own files");
});

t.test("a package's require of its own files is told from the requiring file's path, without a resolve", async (t) => {
  const r = registry();
  const nodePath = require('node:path') as { resolve: (...p: string[]) => string; dirname: (p: string) => string };
  const { resolve, dirname } = nodePath;
  let calls = 0;
  nodePath.resolve = (...p) => (calls++, resolve(...p));
  nodePath.dirname = (p) => (calls++, dirname(p));
  t.teardown(() => Object.assign(nodePath, { resolve, dirname }));
  t.ok(mayReachTarget(r, './lib/application', inside('express')));
  t.ok(mayReachTarget(r, './request.js', inside('@hapi/hapi')));
  t.ok(mayReachTarget(r, './.', inside('express')));
  t.notOk(mayReachTarget(r, './util', inside('body-parser')));
  t.notOk(mayReachTarget(r, './routes/users', app));
  t.equal(calls, 0, 'no path.resolve or path.dirname');
  // What the requiring file's path cannot tell is still resolved.
  const inNodeModules = { filename: path.join(path.sep, 'srv', 'app', 'node_modules', 'loose.js') };
  t.ok(mayReachTarget(r, './express/index.js', inNodeModules), 'a file directly in node_modules, into a package beside it');
  t.ok(mayReachTarget(r, './hapi/lib/request.js', { filename: path.join(path.sep, 'srv', 'app', 'node_modules', '@hapi', 'loose.js') }), 'from a scope folder');
  t.ok(mayReachTarget(r, './node_modules/express', inside('body-parser')), 'into a nested node_modules');
  t.ok(calls > 0);
});

t.test('what the specifier alone cannot tell is resolved and matched', async (t) => {
  const r = registry();
  t.ok(mayReachTarget(r, '#db', app), "a package's imports map");
  t.ok(mayReachTarget(r, './x', {}), 'a relative require without a parent file (node -e)');
  t.ok(mayReachTarget(r, './x', null));
  t.ok(mayReachTarget(r, 42, app), 'not a string: Node throws its own error');
  t.ok(mayReachTarget(r, '', app));
});
