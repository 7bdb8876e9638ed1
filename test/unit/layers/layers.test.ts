import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { cycles, importGraph, importsOf, sourceFiles, type ImportEdge } from './import-graph.js';

// The layers of src/ (docs/architecture.md): api/ at the bottom, the implementations of its
// interfaces above it (scope/, sampling/, propagation/, export/), the tracer factory and the agent
// above those. A cycle between layers, or api/ reaching up, makes every module in it load with the
// others half-initialised and ties the bottom layer to what it should not know.
const SRC = path.join(ROOT, 'src');
const API = path.join(SRC, 'api');
// The browser page of the viewer is a separate program (its own tsconfig), not part of the agent.
const files = sourceFiles(SRC, ['viewer/page']);
const graph = importGraph(files);
const rel = (f: string): string => path.relative(SRC, f);

// The only modules outside api/ that api/ may import: plain helpers whose loading does nothing but
// define functions and module-local state (no AsyncLocalStorage, no hooks, no timers, no I/O).
const SIDE_EFFECT_FREE_UTIL = ['util/clock.ts', 'util/ids.ts', 'util/hex.ts', 'util/log.ts'].map((f) => path.join(SRC, f));

t.test('the import reader and the cycle finder catch what they must (so the tests below can fail)', async (t) => {
  const file = path.join(SRC, 'api', 'x.ts');
  const edges = (source: string): [string, boolean][] => importsOf(file, source).map((e: ImportEdge) => [rel(e.target), e.typeOnly]);
  t.same(edges("import { a } from './a.js';\nimport type { B } from '../scope/b.js';"), [['api/a.ts', false], ['scope/b.ts', true]]);
  t.same(edges("import { type A, type B } from './a.js';\nimport { type C, d } from './c.js';"), [['api/a.ts', true], ['api/c.ts', false]]);
  t.same(edges("export { x } from './x2.js';\nexport type { Y } from './y.js';\nimport './side.js';"), [['api/x2.ts', false], ['api/y.ts', true], ['api/side.ts', false]]);
  t.same(edges("const m = require('../export/m.js') as typeof import('../export/m.js');"), [['export/m.ts', false], ['export/m.ts', true]]);
  t.same(edges("/** import { a } from './doc.js' */\n// import './commented.js';\nconst url = 'http://x/y';"), [], 'comments are not imports');
  t.same(edges("import { x } from 'node:fs';\nimport semver = require('semver');"), [], 'packages and built-ins are not files of src/');

  const [a, b, c] = ['a.ts', 'b.ts', 'c.ts'].map((f) => path.join(SRC, f)) as [string, string, string];
  const made = new Map<string, ImportEdge[]>([
    [a, [{ target: b, typeOnly: false }]],
    [b, [{ target: c, typeOnly: true }]],
    [c, [{ target: a, typeOnly: false }]],
  ]);
  t.same(cycles(made, true), [[a, b, c]], 'a cycle through a type import, counting types');
  t.same(cycles(made, false), [], 'no run-time cycle when one link is a type');
  made.get(b)!.push({ target: a, typeOnly: false });
  t.same(cycles(made, false), [[a, b]], 'a run-time cycle');
});

t.test('src/ has no import cycle at run time', async (t) => {
  t.ok(files.length > 100, `read the sources of src/ (${files.length} files)`);
  t.same(cycles(graph, false).map((c) => c.map(rel)), [], 'no module of src/ requires, imports or re-exports itself back');
});

t.test('counting type imports, a cycle never leaves one folder', async (t) => {
  // Types that name each other within one layer (a span knows its tracer, a tracer starts spans)
  // are one design; across folders they would tie a lower layer to a higher one.
  const crossing = cycles(graph, true).filter((c) => new Set(c.map((f) => path.dirname(f))).size > 1);
  t.same(crossing.map((c) => c.map(rel)), []);
});

t.test('api/ is the bottom layer: it imports nothing outside api/ but side-effect-free helpers', async (t) => {
  const apiFiles = files.filter((f) => path.dirname(f) === API);
  t.ok(apiFiles.length >= 10, `read api/ (${apiFiles.length} files)`);
  for (const f of apiFiles) {
    const upward = graph.get(f)!.filter((e) => path.dirname(e.target) !== API && !SIDE_EFFECT_FREE_UTIL.includes(e.target));
    t.same(upward.map((e) => rel(e.target)), [], `${rel(f)} stays in api/ (types included)`);
  }
  for (const helper of SIDE_EFFECT_FREE_UTIL) {
    t.ok(fs.existsSync(helper), `${rel(helper)} exists`);
    const reaches = graph.get(helper)!.filter((e) => !SIDE_EFFECT_FREE_UTIL.includes(e.target));
    t.same(reaches.map((e) => rel(e.target)), [], `${rel(helper)} imports only helpers of the same list`);
  }
});
