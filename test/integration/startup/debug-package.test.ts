import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';

// The agent spares itself the cost of loading `debug` (require-in-the-middle's logger) at start-up
// when DEBUG is unset; the app must still get the real package, and DEBUG must still work.
const root = path.resolve(__dirname, '..', '..', '..', '..');
const register = path.join(root, 'register.cjs');
const script = `
const debug = require('debug');
process.stdout.write(JSON.stringify({
  real: typeof debug.enable === 'function' && typeof debug.disable === 'function' && typeof debug.humanize === 'function',
  works: typeof debug('app') === 'function',
}));
require('node:http');
`;

function run(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRACING_') && !k.startsWith('OTEL_') && k !== 'DEBUG' && k !== 'NODE_OPTIONS'));
  return spawnSync(process.execPath, ['--require', register, '-e', script], {
    cwd: root,
    env: { ...clean, TRACING_EXPORTER: 'none', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

t.test('without DEBUG the app still loads the real debug package', async (t) => {
  const r = run({});
  if (!t.equal(r.status, 0, 'the app exits cleanly')) t.comment(r.stderr);
  t.same(JSON.parse(r.stdout), { real: true, works: true });
  t.notMatch(r.stderr, /require-in-the-middle/, 'nothing is logged');
});

t.test('with DEBUG set, require-in-the-middle logs through the real debug package', async (t) => {
  const r = run({ DEBUG: 'require-in-the-middle' });
  if (!t.equal(r.status, 0, 'the app exits cleanly')) t.comment(r.stderr);
  t.same(JSON.parse(r.stdout), { real: true, works: true });
  t.ok(/require-in-the-middle registering require hook/.test(r.stderr), 'require-in-the-middle logs its hook');
});
