import t from 'tap';
import { normalizeSubpath, packagesIn } from '../../../src/agent/module-info.js';

// What normalizeSubpath did with regular expressions until round seven: the string version must agree.
function byRegExp(file: string): string {
  return file
    .replace(/\\/g, '/')
    .replace(/^\.?\//, '')
    .replace(/\.(c|m)?js$/, '')
    .replace(/(^|\/)index$/, '');
}

t.test('normalizeSubpath: require and import spellings of a file agree, as with the regular expressions', async (t) => {
  const cases: Array<[string, string]> = [
    ['lib/client.js', 'lib/client'],
    ['./lib/client.js', 'lib/client'],
    ['/lib/client.js', 'lib/client'],
    ['lib\\client.cjs', 'lib/client'],
    ['esm/execution/execute.mjs', 'esm/execution/execute'],
    ['dist/lib/client/index.js', 'dist/lib/client'],
    ['index.js', ''],
    ['index', ''],
    ['./index.mjs', ''],
    ['', ''],
    ['lib/reindex.js', 'lib/reindex'],
    ['lib/index.json', 'lib/index.json'],
    ['.hidden/x.js', '.hidden/x'],
    ['.//x.js', '/x'],
    ['lib/x.jsx', 'lib/x.jsx'],
    ['lib/x.js.js', 'lib/x.js'],
    ['lib/.js', 'lib/'],
    ['lib/index/index.js', 'lib/index'],
    ['.\\lib\\index.cjs', 'lib'],
  ];
  for (const [input, expected] of cases) {
    t.equal(normalizeSubpath(input), expected, JSON.stringify(input));
    t.equal(normalizeSubpath(input), byRegExp(input), `${JSON.stringify(input)} as before`);
  }
});

// What warnIfAlreadyLoaded searched for until round seven: a file under `node_modules/<name>/`.
function loadedByMarker(files: string[], name: string): boolean {
  const marker = `/node_modules/${name}/`;
  return files.some((file) => file.includes(marker));
}

t.test('packagesIn: the packages a list of loaded files comes from, as a search for each name finds them', async (t) => {
  const files = [
    '/app/node_modules/express/index.js',
    '/app/node_modules/express/node_modules/debug/src/index.js',
    '/app/node_modules/@redis/client/dist/index.js',
    '/app/node_modules/@acme/tracing-agent/dist/src/tracer.js',
    '/app/src/server.js',
    '/app/node_modules/.pnpm/pg@8.11.0/node_modules/pg/lib/client.js',
    '/app/node_modules/lonely-file.js',
    '/app/node_modules/@scope-only',
  ];
  const found = packagesIn(files);
  t.same([...found].sort(), ['.pnpm', '@acme/tracing-agent', '@redis/client', 'debug', 'express', 'pg'].sort());
  for (const name of ['express', 'debug', '@redis/client', 'pg', 'redis', '@redis/other', 'client', 'lonely-file.js', 'src', 'pg@8.11.0', '@scope-only']) {
    t.equal(found.has(name), loadedByMarker(files, name), name);
  }
});
