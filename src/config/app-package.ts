import fs = require('node:fs');
import path = require('node:path');
import type { ReadFile } from './file.js';

/** The application's own package.json: where the default service name and version come from. */
export interface AppPackage {
  path: string;
  name: string;
  version: string;
}

/**
 * Finds the nearest package.json with a name, walking up from the main script's folder, then from
 * `cwd`. A main script inside node_modules (a CLI started through `npx`, `next start`) names a
 * dependency, not the app, so for it only `cwd` is used. Never throws.
 */
export function findAppPackage(cwd: string, mainScript: string | undefined, readFile: ReadFile = (f) => fs.readFileSync(f, 'utf8')): AppPackage | null {
  const starts: string[] = [];
  if (mainScript && !mainScript.split(/[\\/]/).includes('node_modules')) starts.push(path.dirname(path.resolve(cwd, mainScript)));
  starts.push(cwd);
  for (const start of starts) {
    const found = walkUp(path.resolve(start), readFile);
    if (found) return found;
  }
  return null;
}

function walkUp(dir: string, readFile: ReadFile): AppPackage | null {
  // Bounded by the depth of the path; each step is one failed read at most.
  for (;;) {
    const file = path.join(dir, 'package.json');
    const pkg = readJson(file, readFile);
    // Nested package.json files without a name ({"type": "module"}) only mark a module format.
    if (pkg && typeof pkg.name === 'string' && pkg.name.trim() !== '') {
      return { path: file, name: pkg.name.trim(), version: typeof pkg.version === 'string' ? pkg.version.trim() : '' };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function readJson(file: string, readFile: ReadFile): Record<string, unknown> | null {
  try {
    const json: unknown = JSON.parse(readFile(file));
    return json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
