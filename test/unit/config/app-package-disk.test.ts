import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { findAppPackage } from '../../../src/config/app-package.js';

t.test('the app package from disk: the nearest named package.json; a folder named package.json is no file', async (t) => {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'app-package-')));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'app', 'src', 'package.json'), { recursive: true });
  writeFileSync(path.join(root, 'app', 'package.json'), JSON.stringify({ name: 'shop-api', version: '2.0.1' }));
  const found = findAppPackage(path.join(root, 'app'), path.join(root, 'app', 'src', 'main.js'));
  t.same(found, { path: path.join(root, 'app', 'package.json'), name: 'shop-api', version: '2.0.1' });
  mkdirSync(path.join(root, 'bare', 'bin'), { recursive: true });
  t.equal(findAppPackage(path.join(root, 'bare'), path.join(root, 'bare', 'bin', 'run.js'))?.name ?? null, findAppPackage(root, undefined)?.name ?? null, 'nothing in the folders: what is above them');
});

t.test('each folder is looked in once, when the main script lies below cwd (the usual case)', async (t) => {
  const reads: string[] = [];
  const readFile = (file: string): string => {
    reads.push(file);
    throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  };
  t.equal(findAppPackage('/virtual/app', '/virtual/app/src/main.js', readFile), null);
  t.same(reads, ['/virtual/app/src/package.json', '/virtual/app/package.json', '/virtual/package.json', '/package.json']);
  reads.length = 0;
  t.equal(findAppPackage('/virtual/other', '/virtual/app/main.js', readFile), null);
  t.same(reads, ['/virtual/app/package.json', '/virtual/package.json', '/package.json', '/virtual/other/package.json'], 'cwd elsewhere: only its own folders are added');
});
