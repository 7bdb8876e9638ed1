import t from 'tap';
import { checkTraces, checkUnplugged, outputFolder, runTraced, runUntraced } from './common.js';
import { webpackBundle } from './webpack-build.js';

// The express + pg + ioredis app of fixtures/ (its CommonJS and its ES-module source), bundled with
// webpack 5 for Node with our plugin, run under `--import register.mjs`: the same span tree as
// unbundled (the reference run is in esbuild.test.ts). Without the plugin: the warning and http
// spans. With the plugin but without the agent: it runs unchanged. Minified builds: webpack-minified.test.ts.

// A webpack build takes 5-15 s on a loaded 2-core machine; three of them and four app runs.
t.setTimeout(300_000);
const OUT = outputFolder(t);
const builds = new Map<string, Promise<string>>();
/** Each bundle is built once: the traced run and the run without the agent share theirs. */
function bundle(source: string, outName: string, plugin: boolean): Promise<string> {
  if (!builds.has(outName)) builds.set(outName, webpackBundle(OUT, source, outName, { plugin }));
  return builds.get(outName)!;
}

for (const source of ['app.cjs', 'app.mjs']) {
  t.test(`webpack bundle of ${source} with the plugin: the unbundled span tree`, async (t) => {
    const file = await bundle(source, `traced-${source.replace('.', '-')}.js`, true);
    const { spans, stderr } = await runTraced(t, OUT, file);
    checkTraces(t, spans);
    t.notMatch(stderr, /warn/, 'no warning');
  });
}

t.test('a webpack bundle without the plugin: one warning naming the instrumentations and the plugin, and http spans', async (t) => {
  const file = await bundle('app.cjs', 'plain.js', false);
  const { spans, stderr } = await runTraced(t, OUT, file);
  // ioredis is bundled from node_modules/ioredis5 here (an npm alias), so its module id does not name it.
  checkUnplugged(t, spans, stderr, /the express, pg instrumentations cannot apply/, /@acme\/tracing-agent\/webpack plugin/);
});

t.test('a webpack bundle built with the plugin runs unchanged without the agent', async (t) => {
  await runUntraced(t, OUT, await bundle('app.cjs', 'traced-app-cjs.js', true));
});
