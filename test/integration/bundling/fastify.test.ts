import t from 'tap';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { checkTraces, outputFolder, runTraced, runUntraced, unbundledFolder } from './common.js';
import { esbuildBundle } from './esbuild-build.js';
import { webpackBundle } from './webpack-build.js';

// A fastify + ioredis app (fastify 5), bundled with esbuild (CJS and ESM output) and with webpack,
// each with our plugin, run under `--import register.mjs`: the span tree of the unbundled app (run
// here too); and unchanged without the agent.
// One webpack build (5-15 s on a loaded 2-core machine) and five app runs.
t.setTimeout(240_000);
const OUT = outputFolder(t);
const FASTIFY_TREE = ['ioredis', 'ioredis'];

function fastifyBundle(format: 'cjs' | 'esm'): Promise<string> {
  return esbuildBundle(OUT, 'fastify.cjs', `fastify-esbuild.${format === 'cjs' ? 'cjs' : 'mjs'}`, format, true);
}

t.test('the unbundled fastify app (the reference)', async (t) => {
  const dir = unbundledFolder(OUT, 'fastify.cjs', ['fastify', 'ioredis']);
  const { spans, stderr } = await runTraced(t, dir, 'fastify.cjs', { NODE_PATH: path.join(ROOT, 'node_modules') });
  checkTraces(t, spans, 'fastify', FASTIFY_TREE);
  t.notMatch(stderr, /warn/, 'no warning');
});

for (const format of ['cjs', 'esm'] as const) {
  t.test(`fastify bundled by esbuild (${format}) with the plugin: the unbundled span tree`, async (t) => {
    const { spans, stderr } = await runTraced(t, OUT, await fastifyBundle(format));
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
  await runUntraced(t, OUT, await fastifyBundle('cjs'));
});
