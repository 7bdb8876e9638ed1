import t from 'tap';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { ALIASES, checkTraces, FIXTURES, outputFolder, runTraced, runUntraced, unbundledFolder } from './common.js';
import { webpackBundle } from './webpack-build.js';

// A fastify + ioredis app (fastify 5), bundled with esbuild (CJS and ESM output) and with webpack,
// each with our plugin, run under `--import register.mjs`: the span tree of the unbundled app (run
// here too); and unchanged without the agent.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { tracingPlugin } = require(path.join(ROOT, 'dist', 'src', 'bundler', 'esbuild.js')) as typeof import('../../../src/bundler/esbuild.js');

// One webpack build (5-15 s on a loaded 2-core machine) and five app runs.
t.setTimeout(240_000);
const OUT = outputFolder(t);
const ESM_BANNER = "import { createRequire as __acmeCreateRequire } from 'node:module'; const require = __acmeCreateRequire(import.meta.url);";
const FASTIFY_TREE = ['ioredis', 'ioredis'];

async function esbuildBundle(format: 'cjs' | 'esm'): Promise<string> {
  const outName = `fastify-esbuild.${format === 'cjs' ? 'cjs' : 'mjs'}`;
  await esbuild.build({
    entryPoints: [path.join(FIXTURES, 'fastify.cjs')],
    bundle: true,
    platform: 'node',
    format,
    outfile: path.join(OUT, outName),
    alias: ALIASES,
    logLevel: 'silent',
    banner: format === 'esm' ? { js: ESM_BANNER } : undefined,
    plugins: [tracingPlugin()],
  });
  return outName;
}

t.test('the unbundled fastify app (the reference)', async (t) => {
  const dir = unbundledFolder(OUT, 'fastify.cjs', ['fastify', 'ioredis']);
  const { spans, stderr } = await runTraced(t, dir, 'fastify.cjs', { NODE_PATH: path.join(ROOT, 'node_modules') });
  checkTraces(t, spans, 'fastify', FASTIFY_TREE);
  t.notMatch(stderr, /warn/, 'no warning');
});

for (const format of ['cjs', 'esm'] as const) {
  t.test(`fastify bundled by esbuild (${format}) with the plugin: the unbundled span tree`, async (t) => {
    const { spans, stderr } = await runTraced(t, OUT, await esbuildBundle(format));
    checkTraces(t, spans, 'fastify', FASTIFY_TREE);
    t.notMatch(stderr, /warn/, 'no warning');
  });
}

t.test('fastify bundled by webpack with the plugin: the unbundled span tree, and unchanged without the agent', async (t) => {
  const file = await webpackBundle(OUT, 'fastify.cjs', 'fastify-webpack.js', { plugin: true });
  const { spans, stderr } = await runTraced(t, OUT, file);
  checkTraces(t, spans, 'fastify', FASTIFY_TREE);
  t.notMatch(stderr, /warn/, 'no warning');
  await runUntraced(t, OUT, file);
});

t.test('fastify bundled by esbuild with the plugin runs unchanged without the agent', async (t) => {
  await runUntraced(t, OUT, await esbuildBundle('cjs'));
});
