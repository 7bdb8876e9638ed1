// The code cache's loader reads a bundle as the one wrapped string V8 compiles, decoded as Latin-1 when the
// file is ASCII (the bundles scripts/bundle-start.mjs writes) and as UTF-8 otherwise: what the module sees is
// the file's text either way, with and without a cache file, and stack lines keep the file's line numbers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { ROOT, runNodeUntracked } from '../../helpers/run-node.js';

const CODE_CACHE = path.join(ROOT, 'dist', 'src', 'agent', 'code-cache.js');

function bundle(id: string, text: string): string {
  return `'use strict';\n// build id: ${id}\nmodule.exports = { text: ${JSON.stringify(text)}, raw: '${text}', line: () => new Error().stack.split('\\n')[1] };\n`;
}

t.test('a bundle loaded through the code cache reads as its file, ASCII or not', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'code-cache-source-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = path.join(dir, 'cache');
  const cases: Array<[string, string]> = [
    ['ascii.js', 'plain text'],
    ['latin.js', 'caf\u00e9 \u00fc\u00df'],
    ['wide.js', 'trace \u2192 span \u2014 \u{1F50D}'],
  ];
  for (const [name, text] of cases) {
    writeFileSync(path.join(dir, name), bundle(`${name.length}0123456789abcdef0123456789ab`, text));
    const script = `const m = require(${JSON.stringify(CODE_CACHE)}).loadBundle(${JSON.stringify(path.join(dir, name))}, module);\nconsole.log(JSON.stringify({ text: m.text, raw: m.raw, line: m.line() }));\nrequire(${JSON.stringify(CODE_CACHE)}).reportCodeCache({ warn: (l) => console.error(l), debug: (l) => console.error(l) });\n`;
    writeFileSync(path.join(dir, `run-${name}`), script);
    // Twice: the first start compiles and writes the cache (at exit), the second uses it.
    for (const run of ['without a cache file', 'with the cache file']) {
      // Untracked: without the NODE_OPTIONS tap's process tracking adds (it turns source maps on, and
      // under source maps the loader leaves the bundle to require()).
      const r = runNodeUntracked([path.join(dir, `run-${name}`)], { env: { TRACING_CACHE_DIR: cacheDir } });
      t.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { text: string; raw: string; line: string };
      t.equal(out.text, text, `${name}, ${run}: a string written as escapes`);
      t.equal(out.raw, text, `${name}, ${run}: a string written as is`);
      t.match(r.stderr, run === 'with the cache file' ? /: used / : /: none yet, written after start/, `${name}, ${run}: the cache's own report`);
      t.match(out.line, new RegExp(`${name.replace('.', '\\.')}:3:`), `${name}, ${run}: line numbers of the file`);
    }
  }
});

// V8 keeps a script's source text for as long as the script lives; made young, a bundle's text was copied by the
// start's scavenges and then promoted, all of it counted towards growing the new space (Node 24: +4 MB of peak RSS
// under load). A 96-KB text (under V8's large-object size, so a young string would stay young after one scavenge)
// must leave far less than its size in the young generation (beyond what a scavenge leaves with nothing kept).
t.test("a bundle's text is not kept in the young generation", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'code-cache-young-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = path.join(dir, 'cache');
  const file = path.join(dir, 'big.js');
  const filler = 'x'.repeat(96 * 1024);
  writeFileSync(file, bundle('big0123456789abcdef0123456789ab', 'big').replace('module.exports', `const filler = '${filler}';\nmodule.exports`));
  const script = [
    `const v8 = require('node:v8');`,
    `const loader = require(${JSON.stringify(CODE_CACHE)});`,
    `const young = () => v8.getHeapSpaceStatistics().filter((s) => s.space_name.startsWith('new')).reduce((n, s) => n + s.space_used_size, 0);`,
    // What a scavenge leaves young with nothing new kept (Node 26 reads ~31 KB here), then the same around the load.
    `gc({ type: 'minor' }); gc({ type: 'minor' });`,
    `const idle = young();`,
    `gc({ type: 'minor' });`,
    `const floor = young() - idle;`,
    `gc({ type: 'minor' }); gc({ type: 'minor' });`,
    `const before = young();`,
    `const m = loader.loadBundle(${JSON.stringify(file)}, module);`,
    `gc({ type: 'minor' });`,
    `console.log(JSON.stringify({ kept: young() - before - floor, text: m.text }));`,
  ].join('\n');
  writeFileSync(path.join(dir, 'run.js'), script);
  for (const run of ['without a cache file', 'with the cache file']) {
    const r = runNodeUntracked(['--expose-gc', path.join(dir, 'run.js')], { env: { TRACING_CACHE_DIR: cacheDir } });
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { kept: number; text: string };
    t.equal(out.text, 'big', `${run}: the bundle ran`);
    // Kept with the text young: 131.9 KB on Node 20, 103.7 – 164.9 on Node 26. Without it 12.9 KB on a quiet machine,
    // but 33 – 36 KB in some runs under load (the scavenger's parallel tasks), so the bound sits between the two.
    t.ok(out.kept < 64 * 1024, `${run}: ${out.kept} bytes young after a scavenge, for a ${filler.length}-byte text`);
  }
});
