import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ReceivedSpan } from '../../helpers/collector.js';
import { checkTraces, checkUnplugged, outputFolder, runTraced, SERVER } from './common.js';
import { webpackBundle } from './webpack-build.js';

// Minified webpack builds (mode production, webpack's default minimizer). With our plugin and without
// kept names: the build fails with the message and writes nothing (a one-package app: the check is the same);
// with kept names: the unbundled span tree, middleware spans keeping their function's name. Without
// our plugin: the start-up warning still, though minification leaves no file name in the bundle.

// A minified webpack build of the express app takes 15-40 s on a loaded 2-core machine; two of them.
t.setTimeout(400_000);
const OUT = outputFolder(t);

t.test('minified without kept names (webpack defaults of mode production): the build fails with the message and writes no bundle', async (t) => {
  await t.rejects(
    webpackBundle(OUT, 'pg-pool-only.cjs', 'min.js', { plugin: true, mode: 'production' }),
    /@acme\/tracing-agent\/webpack: min\.js was minified without keeping function and class names; keep them: .*keepFnames: true, keepClassnames: true/,
  );
  t.notOk(existsSync(path.join(OUT, 'min.js')), 'no bundle written');
});

t.test('minified with kept names: the unbundled span tree, and middleware spans named after their function', async (t) => {
  // compress off only to halve the build time: mangling is what renames functions and classes.
  const file = await webpackBundle(OUT, 'app.cjs', 'min-kept.js', { plugin: true, mode: 'production', minimizeJavascript: { compress: false, keepFnames: true, keepClassnames: true } });
  const config = path.join(OUT, 'middleware-spans.json');
  writeFileSync(config, JSON.stringify({ instrumentations: { express: { middlewareSpans: true } } }));
  const { spans, stderr } = await runTraced(t, OUT, file, { TRACING_CONFIG: config });
  t.notMatch(stderr, /warn/, 'no warning');
  const servers = spans.filter((s) => s.kind === SERVER && String(s.attributes['http.url']).includes('/users/'));
  for (const server of servers) {
    const names = spans.filter((s) => s.parentSpanId === server.spanId).map((s) => s.name);
    t.ok(names.includes('middleware - requestTimer'), `the app's middleware keeps its name in the minified bundle (${names.join(', ')})`);
  }
  // Middleware spans sit between the server span and the client spans: compare the rest of the tree without them.
  checkTraces(t, spans.filter((s) => !s.name.startsWith('middleware - ')).map((s) => reparent(s, spans)));
});

t.test('a minified bundle without our plugin (numeric module ids, no file names): the warning still, and http spans', async (t) => {
  // compress off only to halve the build time: the package strings the agent recognizes are literals, which compress keeps too.
  const file = await webpackBundle(OUT, 'app.cjs', 'plain-min.js', { plugin: false, mode: 'production', minimizeJavascript: { compress: false } });
  const { spans, stderr } = await runTraced(t, OUT, file);
  checkUnplugged(t, spans, stderr, /the express, pg, ioredis instrumentations cannot apply/, /@acme\/tracing-agent\/esbuild or \/webpack plugin/);
});

/** A span whose parent is a middleware span, hung under that middleware's parent. */
function reparent(span: ReceivedSpan, all: readonly ReceivedSpan[]): ReceivedSpan {
  let parentSpanId = span.parentSpanId;
  let parent = all.find((p) => p.spanId === parentSpanId);
  while (parent !== undefined && parent.name.startsWith('middleware - ')) {
    parentSpanId = parent.parentSpanId;
    parent = all.find((p) => p.spanId === parentSpanId);
  }
  return { ...span, parentSpanId };
}
