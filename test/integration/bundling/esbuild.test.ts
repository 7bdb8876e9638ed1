import t from 'tap';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { checkTraces, checkUnplugged, outputFolder, runTraced, runUntraced, unbundledFolder } from './common.js';
import { esbuild, esbuildBundle } from './esbuild-build.js';

// The express + pg + ioredis app of fixtures/, bundled with esbuild (CJS and ESM output) with our
// plugin, run under `--import register.mjs`: the same span tree as unbundled. Without the plugin:
// the warning and http spans, minified or not. With the plugin but without the agent: it runs unchanged.
const OUT = outputFolder(t);

function bundle(source: string, outName: string, format: 'cjs' | 'esm', withPlugin: boolean, extra: Record<string, unknown> = {}): Promise<string> {
  return esbuildBundle(OUT, source, outName, format, withPlugin, extra);
}

for (const [format, source] of [['cjs', 'app.cjs'], ['esm', 'app.mjs']] as const) {
  t.test(`esbuild ${format} bundle with the plugin: the unbundled span tree`, async (t) => {
    const file = await bundle(source, `traced.${format === 'cjs' ? 'cjs' : 'mjs'}`, format, true);
    const { spans, stderr } = await runTraced(t, OUT, file);
    checkTraces(t, spans);
    t.notMatch(stderr, /warn/, 'no warning');
  });
}

t.test('esbuild cjs bundle started with --require (NODE_OPTIONS): the same span tree', async (t) => {
  const { spans, stderr } = await runTraced(t, OUT, await bundle('app.cjs', 'traced-require.cjs', 'cjs', true), {}, 'require');
  checkTraces(t, spans);
  t.notMatch(stderr, /warn/, 'no warning');
});

t.test('the unbundled app has the same span tree (the reference)', async (t) => {
  const dir = unbundledFolder(OUT, 'app.cjs', ['express', 'pg', 'ioredis']);
  const { spans, stderr } = await runTraced(t, dir, 'app.cjs', { NODE_PATH: path.join(ROOT, 'node_modules') });
  checkTraces(t, spans);
  t.notMatch(stderr, /bundle/, 'no bundle warning for an unbundled app');
});

t.test('a bundle without the plugin: one warning naming the instrumentations and the plugin, and http spans', async (t) => {
  const file = await bundle('app.cjs', 'plain.cjs', 'cjs', false);
  const { spans, stderr } = await runTraced(t, OUT, file);
  checkUnplugged(t, spans, stderr, /the express, pg instrumentations cannot apply/, /@acme\/tracing-agent\/esbuild plugin/);
});

t.test('a minified bundle without the plugin (no file names left in it): the warning still, from the packages it inlines', async (t) => {
  const file = await bundle('app.cjs', 'plain-min.cjs', 'cjs', false, { minify: true });
  const { spans, stderr } = await runTraced(t, OUT, file);
  checkUnplugged(t, spans, stderr, /inlines express, pg, pg-pool, ioredis: the express, pg, ioredis instrumentations cannot apply/, /@acme\/tracing-agent\/esbuild or \/webpack plugin/);
});

t.test('a bundle built with the plugin runs unchanged without the agent', async (t) => {
  await runUntraced(t, OUT, await bundle('app.cjs', 'no-agent.cjs', 'cjs', true));
});

t.test('a minified build without keepNames fails with the message; with keepNames it builds and keeps the span tree', async (t) => {
  await t.rejects(bundle('app.cjs', 'min.cjs', 'cjs', true, { minify: true }), /set keepNames: true/);
  await t.rejects(bundle('app.cjs', 'min.cjs', 'cjs', true, { minifyIdentifiers: true }), /set keepNames: true/);
  const file = await bundle('app.cjs', 'min-kept.cjs', 'cjs', true, { minify: true, keepNames: true });
  const { spans, stderr } = await runTraced(t, OUT, file);
  checkTraces(t, spans);
  t.notMatch(stderr, /warn/, 'no warning');
});

t.test('a bundle minified again after the build, names lost: traced, and one warning that names were lost', async (t) => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const built = await bundle('app.cjs', 'reminified-src.cjs', 'cjs', true);
  const minified = await esbuild.transform(readFileSync(path.join(OUT, built), 'utf8'), { minify: true, format: 'cjs', platform: 'node' });
  writeFileSync(path.join(OUT, 'reminified.cjs'), minified.code);
  const { spans, stderr } = await runTraced(t, OUT, 'reminified.cjs');
  checkTraces(t, spans);
  const warnings = stderr.split('\n').filter((l) => l.includes('minified without keeping function and class names'));
  t.equal(warnings.length, 1, `one warning (stderr: ${stderr})`);
});
