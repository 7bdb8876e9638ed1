// Assembles the viewer's page into dist/viewer-page/: index.html at its root, the compiled modules
// and the stylesheet in assets/. The page is compiled by its own tsconfig into a staging folder
// because it imports the contract's types from src/viewer/model.ts, outside the page folder.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'viewer', 'page');
const compiled = join(root, 'dist', 'viewer-page-build', 'page');
const out = join(root, 'dist', 'viewer-page');
const assets = join(out, 'assets');

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
// Every module is announced in the page's head, so the browser fetches them in parallel instead of
// discovering them one import level at a time.
// Only modules with a source today: the staging folder may still hold one that was renamed away.
const sources = new Set(readdirSync(source).filter((file) => file.endsWith('.ts')).map((file) => file.replace(/\.ts$/, '.js')));
const modules = readdirSync(compiled).filter((file) => sources.has(file)).sort();
const preload = modules.filter((file) => file !== 'app.js').map((file) => `  <link rel="modulepreload" href="/assets/${file}">`).join('\n');
const html = readFileSync(join(source, 'index.html'), 'utf8').replace('  <!-- modulepreload -->', preload);
writeFileSync(join(out, 'index.html'), html);
for (const file of readdirSync(source)) {
  if (file.endsWith('.css') || file.endsWith('.svg')) cpSync(join(source, file), join(assets, file));
}
for (const file of modules) cpSync(join(compiled, file), join(assets, file));
