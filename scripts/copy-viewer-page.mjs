// Assembles the viewer's page into dist/viewer-page/: index.html at its root, the compiled modules
// and the stylesheet in assets/. The page is compiled by its own tsconfig into a staging folder
// because it imports the contract's types from src/viewer/model.ts, outside the page folder.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'viewer', 'page');
const compiled = join(root, 'dist', 'viewer-page-build', 'page');
const out = join(root, 'dist', 'viewer-page');
const assets = join(out, 'assets');

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
cpSync(join(source, 'index.html'), join(out, 'index.html'));
for (const file of readdirSync(source)) {
  if (file.endsWith('.css') || file.endsWith('.svg')) cpSync(join(source, file), join(assets, file));
}
for (const file of readdirSync(compiled)) {
  if (file.endsWith('.js')) cpSync(join(compiled, file), join(assets, file));
}
