import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';

// Instrumentations reach the agent only through the instrumentation API (src/agent/instrumentation.ts):
// the kit on `ctx` and the few types and helpers that module exports. Anything else from src/ is an
// agent internal that may change under them. This reads every source file under instrumentations/.
const INSTRUMENTATIONS = path.join(ROOT, 'instrumentations');
const SRC = path.join(ROOT, 'src');
const API = path.join(SRC, 'agent', 'instrumentation');

/** Every module specifier a TypeScript source names: import/export … from, import(), require(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The imports of `file` (whose text is `source`) that reach into src/ other than the instrumentation API. */
function forbiddenImports(file: string, source: string): string[] {
  return specifiers(source).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const target = path.resolve(path.dirname(file), spec).replace(/\.(js|ts)$/, '');
    return (target === SRC || target.startsWith(SRC + path.sep)) && target !== API;
  });
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

t.test('the check catches a reach-in (so the test below can fail)', async (t) => {
  const file = path.join(INSTRUMENTATIONS, 'family', 'lib.ts');
  t.same(forbiddenImports(file, "import { log } from '../../src/util/log.js';\nimport { x } from './own.js';"), ['../../src/util/log.js']);
  t.same(forbiddenImports(file, "const s = require('../../src/util/suppress.js');"), ['../../src/util/suppress.js']);
  t.same(forbiddenImports(file, "import type { Span } from '../../src/api/span.js';"), ['../../src/api/span.js'], 'types too');
  t.same(forbiddenImports(file, "import { defineInstrumentation } from '../../src/agent/instrumentation.js';\nimport semver = require('semver');"), []);
});

t.test('instrumentations import nothing from src/ but the instrumentation API', async (t) => {
  const files = sourceFiles(INSTRUMENTATIONS);
  t.ok(files.length > 20, `found the instrumentation sources (${files.length} files)`);
  for (const file of files) {
    const bad = forbiddenImports(file, fs.readFileSync(file, 'utf8'));
    t.same(bad, [], `${path.relative(ROOT, file)} imports only the instrumentation API from src/`);
  }
});
