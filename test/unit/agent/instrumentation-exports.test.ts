import t from 'tap';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';

// Modules whose exports code reads on every request (each instrumentation reads the instrumentation
// API's `canReenter`, `EMITTER_SCOPE`, `recordError`... per request; the header parsers call text.ts's
// helpers per character; express and koa read the frameworks' server-span helpers per request) must
// export plain data properties. Compiled to CommonJS, `export { x } from`
// is a getter on the exports object, which also turns the object into a dictionary: every read is
// then a getter call through V8's generic load IC, which optimised code cannot inline (~0.8 k
// instructions of each plain http request on Node 20, benchmarks/micro/server-instructions.mjs).
const HOT_MODULES = ['dist/src/agent/instrumentation.js', 'dist/src/propagation/text.js', 'dist/instrumentations/frameworks/server-span.js'];

/** The exports of `exports` that are accessors or still undefined (a cycle read too early). */
function notPlainData(exports: object): string[] {
  return Object.entries(Object.getOwnPropertyDescriptors(exports))
    .filter(([key, d]) => key !== '__esModule' && (d.get !== undefined || d.set !== undefined || d.value === undefined))
    .map(([key]) => key);
}

t.test('the check catches a getter export (so the test below can fail)', async (t) => {
  const reexported: Record<string, unknown> = { plain: 1 };
  Object.defineProperty(reexported, 'live', { enumerable: true, get: () => 2 });
  t.same(notPlainData(reexported), ['live']);
});

for (const rel of HOT_MODULES) {
  t.test(`${rel}: every export is a defined data property`, async (t) => {
    const exports = require(path.join(ROOT, rel)) as object;
    t.ok(Object.keys(exports).length > 3, 'the module has exports');
    t.same(notPlainData(exports), []);
  });
}
