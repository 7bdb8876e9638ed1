import * as fs from 'node:fs';
import * as path from 'node:path';

/** One import of a source file: the file it names (resolved, `.ts`) and whether only types cross. */
export interface ImportEdge {
  readonly target: string;
  readonly typeOnly: boolean;
}

// Comments may quote code (`import x from '...'` in a doc comment); strings with `//` (URLs) must
// survive, so only block comments and whole-line `//` comments are dropped.
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** `{ type A, type B }` (every name a type) is erased by TypeScript like `import type`. */
function namesOnlyTypes(clause: string): boolean {
  const braces = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (braces === null) return false;
  const names = braces[1]!.split(',').map((n) => n.trim()).filter((n) => n !== '');
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

/**
 * The relative imports of a TypeScript file: `import`/`export … from`, side-effect `import '…'`,
 * `require('…')` and `import('…')` (values), and `typeof import('…')` (a type).
 */
export function importsOf(file: string, source: string): ImportEdge[] {
  const code = stripComments(source);
  const out: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean): void => {
    if (!spec.startsWith('.')) return;
    out.push({ target: path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'), typeOnly });
  };
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
    add(m[4]!, m[2] !== undefined || namesOnlyTypes(m[3]!));
  }
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) add(m[1]!, false);
  for (const m of code.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false);
  for (const m of code.matchAll(/(\btypeof\s+)?\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[2]!, m[1] !== undefined);
  return out;
}

/** Every `.ts` file under `dir`, skipping folders whose path relative to `dir` is in `skip`. */
export function sourceFiles(dir: string, skip: readonly string[] = []): string[] {
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(d, e.name);
      if (e.isDirectory()) return skip.includes(path.relative(dir, full)) ? [] : walk(full);
      return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
    });
  return walk(dir);
}

/** File → its imports, for every file of `files` (imports leaving the set are kept). */
export function importGraph(files: readonly string[]): Map<string, ImportEdge[]> {
  return new Map(files.map((f) => [f, importsOf(f, fs.readFileSync(f, 'utf8'))]));
}

/**
 * The import cycles of `graph`: its strongly connected components of more than one file (or a
 * file importing itself), following only value imports unless `withTypes`.
 */
export function cycles(graph: ReadonlyMap<string, readonly ImportEdge[]>, withTypes: boolean): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    let selfLoop = false;
    for (const edge of graph.get(v) ?? []) {
      if (edge.typeOnly && !withTypes) continue;
      const w = edge.target;
      if (!graph.has(w)) continue;
      if (w === v) selfLoop = true;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || selfLoop) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}
