import type { Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { postgres, redis } from '../../helpers/db-servers.js';
import { startApp } from '../../helpers/fixture-app.js';
import { ROOT } from '../../helpers/run-node.js';

// What the esbuild, webpack and fastify bundling suites share: the fixture apps, their environment,
// how a bundle is run, and the span tree every bundle must give.

export const SERVER = 2;
export const CLIENT = 3;
export const FIXTURES = path.join(ROOT, 'test', 'integration', 'bundling', 'fixtures');

/** A fresh output folder for one suite's bundles, removed at its end. */
export function outputFolder(t: Test): string {
  const out = mkdtempSync(path.join(tmpdir(), 'acme-bundling-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  return out;
}

export const fixtureEnv = {
  FIXTURE_PG_URL: `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}/${postgres.database}`,
  FIXTURE_REDIS_URL: `redis://:${redis.password}@${redis.host}:${redis.port}`,
};

export function agentEnv(collector: Collector, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...fixtureEnv, TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '50', TRACING_SERVICE_NAME: 'bundled-fixture', ...extra };
}

/**
 * The packages the fixture apps import, by the npm alias the repository installs them under
 * (`ioredis` is `ioredis5`, `fastify` is `fastify5`); the bundles and the unbundled reference resolve
 * them so, as a user's app resolves its own.
 */
export const ALIASES: Record<string, string> = { ioredis: 'ioredis5', fastify: 'fastify5' };

/** Three concurrent `GET /users/<n>` against the app; each must answer `user <n>`. */
export async function threeRequests(t: Test, app: { get(p: string): Promise<{ status: number; body: string }> }): Promise<void> {
  const replies = await Promise.all([1, 2, 3].map((n) => app.get(`/users/${n}`)));
  t.same(replies.map((r) => `${r.status} ${r.body}`), ['200 user 1', '200 user 2', '200 user 3'], 'the app answers as unbundled');
}

/**
 * Runs a bundle (a file of `dir`) under the agent, sends three concurrent requests, returns spans and
 * stderr. The agent comes with `--import register.mjs`, or with `--require register.cjs` given in
 * NODE_OPTIONS, as docs/bundling.md advises for CommonJS bundles on Node 20 and 22.
 */
export async function runTraced(t: Test, dir: string, file: string, extraEnv: NodeJS.ProcessEnv = {}, start: 'import' | 'require' = 'import'): Promise<{ spans: ReceivedSpan[]; stderr: string }> {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  const app =
    start === 'import'
      ? await startApp(path.join(dir, file), { preserveSymlinks: true, env: agentEnv(collector, extraEnv) })
      : await startApp(path.join(dir, file), { preserveSymlinks: true, env: agentEnv(collector, { ...extraEnv, NODE_OPTIONS: `--require ${path.join(ROOT, 'register.cjs')}` }), agent: false });
  await threeRequests(t, app);
  await app.stop();
  return { spans: collector.spans, stderr: app.stderr };
}

/** Runs a bundle without the agent: it must answer the same and print nothing on stderr. */
export async function runUntraced(t: Test, dir: string, file: string): Promise<void> {
  const app = await startApp(path.join(dir, file), { preserveSymlinks: true, env: fixtureEnv, agent: false });
  await threeRequests(t, app);
  await app.stop();
  t.equal(app.stderr, '', 'nothing on stderr');
}

/**
 * The span tree of the express + pg + ioredis app (and of the fastify + ioredis one with `components`
 * and `framework` set): each of three concurrent requests is its own trace; the server span is named
 * by the route; the client spans are its children, in its trace, the redis one of this very request.
 */
export function checkTraces(t: Test, spans: ReceivedSpan[], framework = 'express', components = ['ioredis', 'ioredis', 'pg']): void {
  const servers = spans.filter((s) => s.kind === SERVER && String(s.attributes['http.url']).includes('/users/'));
  t.equal(servers.length, 3, 'one server span per request');
  t.equal(new Set(servers.map((s) => s.traceId)).size, 3, 'each request is its own trace');
  for (const server of servers) {
    t.equal(server.name, 'GET /users/:id', `server span renamed by the ${framework} route`);
    t.equal(server.attributes['component'], framework);
    const children = spans.filter((s) => s.parentSpanId === server.spanId && s.kind === CLIENT);
    t.same(children.map((s) => String(s.attributes['component'])).sort(), components, 'the client spans are children of the server span');
    for (const c of children) t.equal(c.traceId, server.traceId, `${c.name} in its request's trace`);
    const id = /\/users\/(\d+)/.exec(String(server.attributes['http.url']))![1];
    t.ok(children.some((c) => String(c.attributes['db.statement']).includes(`bundling:user:${id}`)), 'the redis span of this very request');
  }
}

/** The checks of a bundle built without a plugin: one warning naming the instrumentations and the plugin, and http spans only. */
export function checkUnplugged(t: Test, spans: ReceivedSpan[], stderr: string, instrumentations: RegExp, plugin: RegExp): void {
  const warnings = stderr.split('\n').filter((l) => l.includes('is a bundle'));
  t.equal(warnings.length, 1, `one warning (stderr: ${stderr})`);
  t.match(warnings[0], instrumentations, 'naming the instrumentations that cannot apply');
  t.match(warnings[0], plugin, 'and the plugin to use');
  const servers = spans.filter((s) => s.kind === SERVER && String(s.attributes['http.url']).includes('/users/'));
  t.equal(servers.length, 3, 'http server spans still, one per request');
  t.ok(servers.every((s) => s.attributes['component'] === 'http'), 'named by http alone');
  t.equal(spans.filter((s) => s.kind === CLIENT).length, 0, 'no pg or redis span: they cannot apply');
}

/**
 * A folder holding a copy-free link to the fixture `file` and `node_modules` links by the names the
 * app imports, so the unbundled reference loads each package by its real name.
 */
export function unbundledFolder(out: string, file: string, packages: string[]): string {
  const dir = path.join(out, `unbundled-${path.basename(file).replace(/\W/g, '-')}`);
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(path.join(FIXTURES, file), path.join(dir, path.basename(file)));
  for (const name of packages) symlinkSync(path.join(ROOT, 'node_modules', ALIASES[name] ?? name), path.join(dir, 'node_modules', name));
  return dir;
}
