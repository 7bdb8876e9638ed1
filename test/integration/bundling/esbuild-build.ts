import * as path from 'node:path';
import { ROOT } from '../../helpers/run-node.js';
import { ALIASES, FIXTURES } from './common.js';

// How the esbuild suites build a fixture app: esbuild for Node, CJS or ESM output, our plugin or not.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const esbuild = require('esbuild') as typeof import('esbuild');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { tracingPlugin } = require(path.join(ROOT, 'dist', 'src', 'bundler', 'esbuild.js')) as typeof import('../../../src/bundler/esbuild.js');

// An ES-module bundle of CommonJS packages needs a real `require` for built-ins (esbuild's documented banner).
const ESM_BANNER = "import { createRequire as __acmeCreateRequire } from 'node:module'; const require = __acmeCreateRequire(import.meta.url);";

/** Builds `source` (a file of fixtures/) into `out/outName`; `extra` is passed to esbuild as is (minify, keepNames...). */
export async function esbuildBundle(out: string, source: string, outName: string, format: 'cjs' | 'esm', withPlugin: boolean, extra: Record<string, unknown> = {}): Promise<string> {
  await esbuild.build({
    entryPoints: [path.join(FIXTURES, source)],
    bundle: true,
    platform: 'node',
    format,
    outfile: path.join(out, outName),
    alias: ALIASES,
    logLevel: 'silent',
    banner: format === 'esm' ? { js: ESM_BANNER } : undefined,
    plugins: withPlugin ? [tracingPlugin()] : [],
    ...extra,
  });
  return outName;
}
