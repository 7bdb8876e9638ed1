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
export function findAppPackage(cwd: string, mainScript: string | undefined, readFile: ReadFile = readFromDisk): AppPackage | null {
  const starts: string[] = [];
  if (mainScript && !mainScript.split(/[\\/]/).includes('node_modules')) starts.push(path.dirname(path.resolve(cwd, mainScript)));
  starts.push(cwd);
  // Folders already looked in (the main script's folder is often cwd or below it): not read twice.
  const seen = new Set<string>();
  for (const start of starts) {
    const found = walkUp(path.resolve(start), readFile, seen);
    if (found) return found;
  }
  return null;
}

function walkUp(dir: string, readFile: ReadFile, seen: Set<string>): AppPackage | null {
  // Bounded by the depth of the path; each step is one failed read at most.
  for (;;) {
    // Its parents were looked in too: nothing above it has a named package.json.
    if (seen.has(dir)) return null;
    seen.add(dir);
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

/**
 * The file's text; a file that is not there (most folders of the walk) answers '' without a failed read: a
 * read that fails builds an ENOENT error with its message, properties and stack, ~5 times the cost of a stat.
 */
function readFromDisk(file: string): string {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true ? fs.readFileSync(file, 'utf8') : '';
}

function readJson(file: string, readFile: ReadFile): Record<string, unknown> | null {
  try {
    const text = readFile(file);
    if (text === '') return null;
    const json: unknown = JSON.parse(text);
    return json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
