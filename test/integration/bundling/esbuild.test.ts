import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { postgres, redis } from '../../helpers/db-servers.js';
import { startApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

// The express + pg + ioredis app of fixtures/, bundled with esbuild (CJS and ESM output) with our
// plugin, run under `--import register.mjs`: the same span tree as unbundled. Without the plugin:
// the warning and http spans. With the plugin but without the agent: it runs unchanged.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { tracingPlugin } = require(path.join(ROOT, 'dist', 'src', 'bundler', 'esbuild.js')) as typeof import('../../../src/bundler/esbuild.js');

const SERVER = 2;
const CLIENT = 3;
const FIXTURES = path.join(ROOT, 'test', 'integration', 'bundling', 'fixtures');
const OUT = mkdtempSync(path.join(tmpdir(), 'acme-bundling-'));
t.teardown(() => rmSync(OUT, { recursive: true, force: true }));

const fixtureEnv = {
  FIXTURE_PG_URL: `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}/${postgres.database}`,
  FIXTURE_REDIS_URL: `redis://:${redis.password}@${redis.host}:${redis.port}`,
};

function env(collector: Collector): NodeJS.ProcessEnv {
  return { ...fixtureEnv, TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_SERVICE_NAME: 'bundled-fixture' };
}

// `ioredis` is installed as the npm alias `ioredis5`; the app imports `ioredis`, as a user's does.
const ALIAS = { ioredis: 'ioredis5' };
// An ES-module bundle of CommonJS packages needs a real `require` for built-ins (esbuild's documented banner).
const ESM_BANNER = "import { createRequire as __acmeCreateRequire } from 'node:module'; const require = __acmeCreateRequire(import.meta.url);";

async function bundle(source: string, outName: string, format: 'cjs' | 'esm', withPlugin: boolean, extra: Record<string, unknown> = {}): Promise<string> {
  const outfile = path.join(OUT, outName);
  await esbuild.build({
    entryPoints: [path.join(FIXTURES, source)],
    bundle: true,
    platform: 'node',
    format,
    outfile,
    alias: ALIAS,
    logLevel: 'silent',
    banner: format === 'esm' ? { js: ESM_BANNER } : undefined,
    plugins: withPlugin ? [tracingPlugin()] : [],
    ...extra,
  });
  return outName;
}

/** Three concurrent requests; each must be its own trace: server span renamed by the route, pg and redis spans its children. */
function checkTraces(t: Test, spans: ReceivedSpan[]): void {
  const servers = spans.filter((s) => s.kind === SERVER && String(s.attributes['http.url']).includes('/users/'));
  t.equal(servers.length, 3, 'one server span per request');
  t.equal(new Set(servers.map((s) => s.traceId)).size, 3, 'each request is its own trace');
  for (const server of servers) {
    t.equal(server.name, 'GET /users/:id', 'server span renamed by the express route');
    const children = spans.filter((s) => s.parentSpanId === server.spanId && s.kind === CLIENT);
    const components = children.map((s) => String(s.attributes['component'])).sort();
    t.same(components, ['ioredis', 'ioredis', 'pg'], 'pg and redis client spans are children of the server span');
    for (const c of children) t.equal(c.traceId, server.traceId, `${c.name} in its request's trace`);
    const id = /\/users\/(\d+)/.exec(String(server.attributes['http.url']))![1];
    t.ok(children.some((c) => String(c.attributes['db.statement']).includes(`bundling:user:${id}`)), 'the redis span of this very request');
  }
}

async function run(t: Test, file: string): Promise<{ spans: ReceivedSpan[]; stderr: string }> {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const app = await startApp(path.join(OUT, file), { preserveSymlinks: true, env: env(collector) });
  const replies = await Promise.all([1, 2, 3].map((n) => app.get(`/users/${n}`)));
  t.same(replies.map((r) => r.body), ['user 1', 'user 2', 'user 3']);
  await app.stop();
  return { spans: collector.spans, stderr: app.stderr };
}

for (const [format, source] of [['cjs', 'app.cjs'], ['esm', 'app.mjs']] as const) {
  t.test(`esbuild ${format} bundle with the plugin: the unbundled span tree`, async (t) => {
    const file = await bundle(source, `traced.${format === 'cjs' ? 'cjs' : 'mjs'}`, format, true);
    const { spans, stderr } = await run(t, file);
    checkTraces(t, spans);
    t.notMatch(stderr, /warn/, 'no warning');
  });
}

t.test('the unbundled app has the same span tree (the reference)', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  // Through a folder of symlinks so that `ioredis` resolves to the installed alias.
  const { mkdirSync, symlinkSync, copyFileSync } = await import('node:fs');
  const dir = path.join(OUT, 'unbundled');
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  copyFileSync(path.join(FIXTURES, 'app.cjs'), path.join(dir, 'app.cjs'));
  for (const [name, real] of [['express', 'express'], ['pg', 'pg'], ['ioredis', 'ioredis5']]) symlinkSync(path.join(ROOT, 'node_modules', real), path.join(dir, 'node_modules', name));
  const app = await startApp(path.join(dir, 'app.cjs'), { preserveSymlinks: true, env: { ...env(collector), NODE_PATH: path.join(ROOT, 'node_modules') } });
  await Promise.all([1, 2, 3].map((n) => app.get(`/users/${n}`)));
  await app.stop();
  checkTraces(t, collector.spans);
  t.notMatch(app.stderr, /bundle/, 'no bundle warning for an unbundled app');
});

t.test('a bundle without the plugin: one warning naming the instrumentations and the plugin, and http spans', async (t) => {
  const file = await bundle('app.cjs', 'plain.cjs', 'cjs', false);
  const { spans, stderr } = await run(t, file);
  const warnings = stderr.split('\n').filter((l) => l.includes('is a bundle'));
  t.equal(warnings.length, 1, 'one warning');
  t.match(warnings[0], /the express, pg instrumentations cannot apply/);
  t.match(warnings[0], /@acme\/tracing-agent\/esbuild/);
  const servers = spans.filter((s) => s.kind === SERVER && String(s.attributes['http.url']).includes('/users/'));
  t.equal(servers.length, 3, 'http server spans still, one per request');
  t.equal(spans.filter((s) => s.attributes['component'] === 'pg').length, 0, 'no pg span: it cannot apply');
});

t.test('a bundle built with the plugin runs unchanged without the agent', async (t) => {
  const file = await bundle('app.cjs', 'no-agent.cjs', 'cjs', true);
  const app = await startApp(path.join(OUT, file), { preserveSymlinks: true, env: fixtureEnv, agent: false });
  const replies = await Promise.all([1, 2, 3].map((n) => app.get(`/users/${n}`)));
  t.same(replies.map((r) => `${r.status} ${r.body}`), ['200 user 1', '200 user 2', '200 user 3']);
  await app.stop();
  t.equal(app.stderr, '', 'nothing on stderr');
});

t.test('a minified build without keepNames fails with the message; with keepNames it builds', async (t) => {
  await t.rejects(bundle('app.cjs', 'min.cjs', 'cjs', true, { minify: true }), /set keepNames: true/);
  await t.rejects(bundle('app.cjs', 'min.cjs', 'cjs', true, { minifyIdentifiers: true }), /set keepNames: true/);
  await t.resolves(bundle('app.cjs', 'min-kept.cjs', 'cjs', true, { minify: true, keepNames: true }));
});
