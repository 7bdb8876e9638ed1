// The source maps of the start bundles (scripts/bundle-start.mjs): a bundle line maps to its line in the dist file
// it came from, and through that file's own tsc map to the TypeScript, so a stack under --enable-source-maps names
// the source. Read only under that flag; the start never loads a map.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

// Source map v3, one segment per line: bundle line → the same column 0 of the dist file's line. Each
// dist file's own map (dist → .ts) is applied when it has one, so a mapped stack names the TypeScript.
export function sourceMap(OUT, DIST, modules, map) {
  const sources = [];
  const sourceIndex = new Map();
  const tsMaps = modules.map(({ rel }) => readTsLineMap(path.join(DIST, rel)));
  const segments = [];
  let prev = { src: 0, line: 0 };
  for (const entry of map) {
    if (entry === null) {
      segments.push('');
      continue;
    }
    const [index, jsLine] = entry;
    const { rel } = modules[index];
    const ts = tsMaps[index]?.get(jsLine);
    const file = ts ? ts.file : path.join(DIST, rel);
    const line = ts ? ts.line : jsLine;
    const sourceName = path.relative(path.dirname(OUT), file).split(path.sep).join('/');
    if (!sourceIndex.has(sourceName)) {
      sourceIndex.set(sourceName, sources.length);
      sources.push(sourceName);
    }
    const src = sourceIndex.get(sourceName);
    segments.push(vlq(0) + vlq(src - prev.src) + vlq(line - prev.line) + vlq(0));
    prev = { src, line };
  }
  return { version: 3, file: path.basename(OUT), sources, names: [], mappings: segments.join(';') };
}

/** dist line (0-based) → first mapped TypeScript line, from tsc's map next to the file. */
function readTsLineMap(jsFile) {
  const mapFile = `${jsFile}.map`;
  if (!existsSync(mapFile)) return null;
  const raw = JSON.parse(readFileSync(mapFile, 'utf8'));
  const result = new Map();
  let src = 0;
  let line = 0;
  raw.mappings.split(';').forEach((group, jsLine) => {
    let first = true;
    for (const segment of group.split(',')) {
      if (segment === '') continue;
      const values = decodeVlq(segment);
      if (values.length < 4) continue;
      src += values[1];
      line += values[2];
      if (first) {
        result.set(jsLine, { file: path.resolve(path.dirname(mapFile), raw.sourceRoot ?? '', raw.sources[src]), line });
        first = false;
      }
    }
  });
  return result;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function vlq(value) {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit];
  } while (v > 0);
  return out;
}
function decodeVlq(text) {
  const values = [];
  let shift = 0;
  let value = 0;
  for (const ch of text) {
    const digit = BASE64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      shift = 0;
      value = 0;
    }
  }
  return values;
}
