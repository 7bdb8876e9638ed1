import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';

// The agent's require hook is its own: it loads no `debug` package (5-25 ms of start-up for a logger that
// prints nothing unless DEBUG is set), whether DEBUG is set or not, and the app's own `debug` works as usual.
const root = path.resolve(__dirname, '..', '..', '..', '..');
const register = path.join(root, 'register.cjs');
const script = `
const loadedByAgent = Object.keys(require.cache).some((file) => /[\\\\/]node_modules[\\\\/]debug[\\\\/]/.test(file));
const debug = require('debug');
process.stdout.write(JSON.stringify({
  loadedByAgent,
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

for (const debugVar of ['', '*']) {
  t.test(`DEBUG=${JSON.stringify(debugVar)}: the agent loads no debug package, the app's own works`, async (t) => {
    const r = run(debugVar === '' ? {} : { DEBUG: debugVar });
    if (!t.equal(r.status, 0, 'the app exits cleanly')) t.comment(r.stderr);
    t.same(JSON.parse(r.stdout), { loadedByAgent: false, real: true, works: true });
    t.notMatch(r.stderr, /require-in-the-middle/, 'no require hook of a library logs');
  });
}
