import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cleanEnv, ROOT } from '../../helpers/run-node.js';

// A TypeScript app type-checks against the declarations the package ships, found by package name through
// the "types" conditions of its exports, with `skipLibCheck` off as strict projects set it: a declaration
// that names something the build left out fails here, not in the user's build. And it sees the public API
// only: members marked internal (the OTLP encoder's fields on Span and SpanContext, the tracer's finish
// hook) are stripped from the declarations (`stripInternal`), so an app cannot come to depend on them.
// TypeScript 7's compiler is a native executable; its `tsc` script is an ES module that only finds and runs
// it, and the test runner's require hooks, which it puts in every child node process, cannot load that
// script. So the executable is run directly, from the platform package npm installed beside `typescript`.
const TSC = path.join(ROOT, 'node_modules', '@typescript', `typescript-${process.platform}-${process.arch}`, 'lib', 'tsc');

function typeCheck(dir: string) {
  return spawnSync(TSC, ['-p', dir], { encoding: 'utf8', timeout: 60_000, env: cleanEnv() });
}

const APP = `
import { Tracer, Tags, FORMAT_HTTP_HEADERS, SpanContext, defineInstrumentation, type Span } from '@acme/tracing-agent';
import { tracingPlugin } from '@acme/tracing-agent/esbuild';
import { TracingWebpackPlugin } from '@acme/tracing-agent/webpack';

const tracer = new Tracer();
const span: Span = tracer.startSpan('checkout');
span.setTag(Tags.HTTP_METHOD, 'GET');
const headers: Record<string, string> = {};
tracer.inject(span.context(), FORMAT_HTTP_HEADERS, headers);
const parent: SpanContext | null = tracer.extract(FORMAT_HTTP_HEADERS, headers);
span.finish();
export const used = [parent, tracingPlugin(), new TracingWebpackPlugin(), defineInstrumentation];

// @ts-expect-error the encoder's field is not part of the shipped declarations
export const hiddenContext = span._context;
// @ts-expect-error the id pool behind a context is not part of them either
export const hiddenPool = span.context()._tracePool;
`;

t.test('a TypeScript app type-checks against the shipped declarations, CommonJS and ES module, internals stripped', (t) => {
  if (!existsSync(TSC)) throw new Error(`tsc not found at ${TSC}: run npm ci`);
  // Inside the package folder (dist/ has no package.json of its own), so the app resolves
  // '@acme/tracing-agent' as an installed app would, through the package's "exports".
  const dir = mkdtempSync(path.join(ROOT, 'dist', 'types-app-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.cts'), APP);
  writeFileSync(path.join(dir, 'app.mts'), APP);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true,
      skipLibCheck: false, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    },
    files: ['app.cts', 'app.mts'],
  }));
  const r = typeCheck(dir);
  t.equal(r.status, 0, `tsc reported:\n${r.stdout}${r.stderr}`);
  t.end();
});

t.test('the check fails when an app uses what the package does not declare', (t) => {
  const dir = mkdtempSync(path.join(ROOT, 'dist', 'types-app-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.mts'), `import { Tracer } from '@acme/tracing-agent';\nnew Tracer().startSpan('x').noSuchMethod();\n`);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
    files: ['app.mts'],
  }));
  const r = typeCheck(dir);
  t.not(r.status, 0);
  t.match(r.stdout, /noSuchMethod/);
  t.end();
});
