import t from 'tap';
import * as path from 'node:path';
import { inlinedPackages, MINIFIED_FINGERPRINTS } from '../../../src/agent/bundled.js';
import { KEPT_NAME_PROBES } from '../../../src/bundler/targets.js';
import { ROOT } from '../../helpers/run-node.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');

// The markers the start-up warning looks for in a main script, and none in an ordinary app.
t.test('finds packages inlined by esbuild and webpack, nothing in an unbundled app', async (t) => {
  const esbuildOut = '// node_modules/express/lib/express.js\nvar x = 1;\n// ../../node_modules/@redis/client/dist/index.js\n';
  t.same([...inlinedPackages(esbuildOut).packages].sort(), ['@redis/client', 'express']);
  t.equal(inlinedPackages(esbuildOut).bundler, 'esbuild');
  const webpackOut = '/***/ "./node_modules/pg/lib/client.js":\n/*!*** ./node_modules/pg/lib/client.js ***!*/\n';
  t.same([...inlinedPackages(webpackOut).packages], ['pg']);
  t.equal(inlinedPackages(webpackOut).bundler, 'webpack');
  const app = "'use strict';\nconst express = require('express');\n// see node_modules docs\nconst p = 'node_modules';\n";
  t.same([...inlinedPackages(app).packages], []);
});

t.test("a big unbundled main script that uses the packages' public API is not taken for a minified bundle", async (t) => {
  const line =
    "const app = require('express')(); app.set('trust proxy', 1); app.disable('x-powered-by'); const { Pool } = require('pg'); " +
    "const pool = new Pool(); const Redis = require('ioredis'); const fastify = require('fastify')(); // FST_ERR_VALIDATION\n";
  const big = line.repeat(Math.ceil((200 * 1024) / line.length));
  t.same([...inlinedPackages(big).packages], []);
});

t.test('the fingerprints are small-file safe: a short script that happens to hold one is not searched', async (t) => {
  t.same([...inlinedPackages(`const s = '${MINIFIED_FINGERPRINTS['express']!}';`).packages], []);
});

// Every installed major of every fingerprinted package, as the npm alias the tests install it under.
const ALIASES: Record<string, string[]> = {
  express: ['express4', 'express5'],
  fastify: ['fastify4', 'fastify5'],
  koa: ['koa2', 'koa3'],
  '@hapi/hapi': ['@hapi/hapi'],
  pg: ['pg'],
  'pg-pool': ['pg-pool'],
  mysql2: ['mysql2', 'mysql2-3-9'],
  ioredis: ['ioredis5', 'ioredis6'],
  '@redis/client': ['redis4', 'redis5', 'redis6'],
  graphql: ['graphql15', 'graphql'],
  undici: ['undici5', 'undici6', 'undici7'],
  pino: ['pino7', 'pino8', 'pino9', 'pino10'],
  winston: ['winston3'],
  bunyan: ['bunyan1'],
  '@grpc/grpc-js': ['grpc-js-1-8', '@grpc/grpc-js'],
  amqplib: ['amqplib0-10', 'amqplib2'],
};

t.test('each fingerprint survives minification: a minified bundle of each installed major is recognized', async (t) => {
  t.same(Object.keys(ALIASES).sort(), Object.keys(MINIFIED_FINGERPRINTS).sort(), 'every fingerprinted package is checked');
  for (const [name, aliases] of Object.entries(ALIASES)) {
    for (const alias of aliases) {
      const out = await esbuild.build({
        stdin: { contents: `module.exports = require(${JSON.stringify(alias)});`, resolveDir: ROOT, loader: 'js' },
        absWorkingDir: ROOT,
        nodePaths: [path.join(ROOT, 'node_modules')],
        bundle: true,
        platform: 'node',
        minify: true,
        write: false,
        logLevel: 'silent',
        // Optional peers and native add-ons some of them probe for.
        external: ['pg-native', 'cardinal', 'dtrace-provider', 'mv', 'source-map-support', 'pino-pretty', '@opentelemetry/api'],
      });
      const text = out.outputFiles[0]!.text;
      t.ok(inlinedPackages(text).packages.has(name), `${alias}: "${MINIFIED_FINGERPRINTS[name]}" found in its minified bundle (${(text.length / 1024).toFixed(0)} KiB)`);
    }
  }
});

t.test('the probe names of the trailer match the ones the agent checks', async (t) => {
  const { readFileSync } = await import('node:fs');
  const agentSource = readFileSync(path.join(ROOT, 'src', 'agent', 'bundled.ts'), 'utf8');
  for (const probe of KEPT_NAME_PROBES) t.ok(agentSource.includes(`'${probe}'`), probe);
});
