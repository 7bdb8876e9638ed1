import { chmodSync, chownSync, existsSync, utimesSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { REGISTER, ROOT, runNodeUntracked } from '../../helpers/run-node.js';

// The three start-path bundles load through a V8 code cache (src/agent/code-cache.ts): written after the first
// start (the tracer core's after the first process that loads it), used by the next ones. What users rely on: the cache is used (start-up is faster), and nothing
// about it can stop or change the app — a damaged, foreign or unwritable cache means a start as without
// it, still traced, with at most a debug line; the modules are the very ones `require()` gives.
const BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'start-bundle.js');
const TRACING_BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'tracing-bundle.js');
const CORE_BUNDLE = path.join(ROOT, 'dist', 'src', 'agent', 'core-bundle.js');
const CJS = REGISTER.replace(/\.mjs$/, '.cjs');

// Traced, from the bundles, with their modules registered as require() registers them (the core's once its
// first span is started).
const PROBE = `
  const { globalTracer } = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'api', 'global.js'))});
  const api = require(${JSON.stringify(ROOT)});
  const recording = globalTracer().startSpan('x').isRecording();
  const bundles = [${JSON.stringify(BUNDLE)}, ${JSON.stringify(TRACING_BUNDLE)}, ${JSON.stringify(CORE_BUNDLE)}].map((f) => require.cache[f]);
  const registered = bundles.every((m) => m !== undefined && m.loaded === true && m.filename !== undefined);
  console.log(JSON.stringify({ registered, recording, sameApi: api.globalTracer() === globalTracer() }));
`;
const TRACED = { registered: true, recording: true, sameApi: true };

function cacheDir(t: Test): string {
  const parent = mkdtempSync(path.join(tmpdir(), 'code-cache-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  return path.join(parent, 'cache');
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// From an empty folder, as a user's script (the repository's devDependencies would start the import hook's
// loader thread), and untracked: without the NODE_OPTIONS tap's process tracking adds to every child.
const APP = mkdtempSync(path.join(tmpdir(), 'code-cache-app-'));
t.teardown(() => rmSync(APP, { recursive: true, force: true }));

async function run(flag: string, dir: string, env: NodeJS.ProcessEnv = {}, script = PROBE, extra: string[] = []): Promise<RunResult> {
  const r = runNodeUntracked([...extra, flag, flag === '--import' ? REGISTER : CJS, '-e', script], {
    cwd: APP,
    env: { TRACING_EXPORTER: 'none', TRACING_LOG_LEVEL: 'debug', TRACING_CACHE_DIR: dir, ...env },
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

const cacheLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('code cache'));
const cacheFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cache')).sort() : []);

t.test('written on the first start, used by the next, under --import and --require', async (t) => {
  for (const flag of ['--import', '--require']) {
    const dir = cacheDir(t);
    const first = await run(flag, dir);
    t.equal(first.code, 0, first.stderr);
    t.same(JSON.parse(first.stdout), TRACED, `${flag}: first start traced`);
    t.match(cacheLines(first.stderr).join('\n'), /start-bundle\.js: none yet[\s\S]*tracing-bundle\.js: none yet[\s\S]*core-bundle\.js: none yet/, `${flag}: no cache at first`);
    const files = cacheFiles(dir);
    t.equal(files.length, 3, `${flag}: one cache file per bundle, written by the first process`);
    t.equal(statSync(dir).mode & 0o777, 0o700, 'the directory is created for this user only');
    for (const f of files) t.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600, `${f}: this user's only`);
    t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left behind');
    const written = files.map((f) => statSync(path.join(dir, f)).mtimeMs);

    const second = await run(flag, dir);
    t.equal(second.code, 0, second.stderr);
    t.same(JSON.parse(second.stdout), TRACED, `${flag}: second start traced`);
    const lines = cacheLines(second.stderr);
    t.match(lines.join('\n'), /start-bundle\.js: used [^\n]*start-bundle-[\s\S]*tracing-bundle\.js: used [^\n]*tracing-bundle-[\s\S]*core-bundle\.js: used [^\n]*core-bundle-/, `${flag}: the three bundles compiled from the cache`);
    t.equal(lines.length, 3, 'one debug line per bundle, nothing written');
    t.same(files.map((f) => statSync(path.join(dir, f)).mtimeMs), written, 'the cache files are left as they were');
    t.equal(second.stderr.replace(/\[tracing-agent\] (debug|info): [^\n]*\n/g, ''), '', 'nothing above debug');
  }
});

// V8 reads cached data in place only at an 8-byte-aligned address and otherwise copies it first (~250 KB of
// fresh memory for both bundles at every start); the agent reads the file to an aligned address, so the
// payload's offset in the file must be aligned.
t.test('each cache file holds its payload twice, starting at a multiple of 8 bytes', async (t) => {
  const dir = cacheDir(t);
  await run('--require', dir);
  const files = cacheFiles(dir);
  t.equal(files.length, 3, 'the three files written');
  for (const f of files) {
    const data = readFileSync(path.join(dir, f));
    const first = data.indexOf(10);
    const second = data.indexOf(10, first + 1);
    const size = Number(data.toString('latin1', 0, first).split(' ')[1]);
    const start = data.length - 2 * size;
    t.equal(start % 8, 0, `${f}: the payload starts at an aligned offset (${start})`);
    t.ok(start > second && start - (second + 1) < 8, `${f}: after the key line and fewer than 8 blanks`);
    t.equal(data.toString('latin1', second + 1, start).trim(), '', `${f}: the bytes between are blanks`);
    t.ok(data.subarray(start, start + size).equals(data.subarray(start + size)), `${f}: the two copies match`);
  }
  const again = await run('--require', dir);
  t.match(cacheLines(again.stderr).join('\n'), /start-bundle\.js: used[\s\S]*tracing-bundle\.js: used[\s\S]*core-bundle\.js: used/, 'and the next start uses them');
});

t.test('one cache for scripts started with other one-liners or preloads; another for other V8 flags', async (t) => {
  const dir = cacheDir(t);
  const preload = path.join(APP, 'preload.cjs');
  writeFileSync(preload, '');
  await run('--require', dir, {}, 'console.log(JSON.stringify({ registered: true, recording: true, sameApi: true }))');
  const other = await run('--require', dir, {}, PROBE, ['--require', preload]);
  t.same(JSON.parse(other.stdout), TRACED, 'traced');
  t.match(cacheLines(other.stderr).join('\n'), /start-bundle\.js: used[\s\S]*tracing-bundle\.js: used/, 'another -e text and another --require: the same cache');
  const flagged = await run('--require', dir, {}, PROBE, ['--stack-size=2000']);
  t.same(JSON.parse(flagged.stdout), TRACED, 'traced under another V8 flag');
  t.match(cacheLines(flagged.stderr).join('\n'), /start-bundle\.js: none yet/, 'a V8 flag: a cache of its own');
  t.equal(cacheFiles(dir).length, 6, 'three files per set of flags (the first one-liner starts no span: the core\'s is written by the next)');
});

t.test('the directory stays bounded: the newest 64 cache files are kept, a killed writer\'s temporary file goes', async (t) => {
  const dir = cacheDir(t);
  mkdirSync(dir, { mode: 0o700 });
  const old = Date.now() / 1000 - 7 * 24 * 3600;
  // Files of 70 other installs, a week old, an hour-old temporary file, and a file that is not ours.
  for (let i = 0; i < 70; i++) {
    const file = path.join(dir, `tracing-bundle-${(0x1000 + i).toString(16)}-v20.0.0-x64.cache`);
    writeFileSync(file, 'x');
    utimesSync(file, old + i, old + i);
  }
  const temp = path.join(dir, 'start-bundle-abc-v20.0.0-x64.cache.123-xyz.tmp');
  writeFileSync(temp, 'x');
  utimesSync(temp, old, old);
  writeFileSync(path.join(dir, 'notes.txt'), 'kept');
  const r = await run('--require', dir);
  t.same(JSON.parse(r.stdout), TRACED, 'traced');
  const left = cacheFiles(dir);
  t.equal(left.length, 64, 'at most 64 cache files');
  t.equal(left.filter((f) => /^(start|tracing|core)-bundle-[0-9a-f]+-v\d/.test(f) && f.includes(process.version)).length, 3, 'this start\'s three files among them');
  t.notOk(left.includes('tracing-bundle-1000-v20.0.0-x64.cache'), 'the oldest removed');
  t.ok(left.includes('tracing-bundle-1045-v20.0.0-x64.cache'), 'the newest kept');
  t.notOk(existsSync(temp), 'the stale temporary file removed');
  t.ok(existsSync(path.join(dir, 'notes.txt')), 'a file that is not ours is left alone');
  t.match(r.stderr, /9 older file\(s\) removed/, 'one debug line');
});

t.test('a long-running process writes the cache on a timer after start, not at exit', async (t) => {
  const dir = cacheDir(t);
  const r = await run('--require', dir, {}, `setTimeout(() => console.log(require('fs').readdirSync(${JSON.stringify(dir)}).filter((f) => f.endsWith('.cache')).length), 2500)`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '2', 'both files the start read written while the app runs (the core is not read: no span)');
});

/** A loopback port that was free a moment ago: connections to it are refused (the collector-down case). */
function refusedPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// V8 caches the functions that ran before the write: a file written by a process that exported nothing lacks
// the exporters' code, which every later process would compile at its first export (4 - 5 ms of CPU on Node
// 20). The first process that exports writes it again, once; later ones use it as it is.
const header = (dir: string, f: string): string => readFileSync(path.join(dir, f), 'latin1').split('\n', 1)[0]!;
const ENDS_A_SPAN = `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'api', 'global.js'))}).globalTracer().startSpan('x').finish()`;

t.test('a cache written before the export path ran is written again by the first process that exports, once', async (t) => {
  const port = await refusedPort();
  // Refused: the exit's one try fails at once; the mapping, encoding and sending code has run all the same.
  const exporting = { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` };
  const dir = cacheDir(t);
  const none = await run('--require', dir, {}, ENDS_A_SPAN);
  t.equal(none.code, 0, none.stderr);
  const files = cacheFiles(dir);
  t.equal(files.length, 3, 'written by a process that exports nothing');
  for (const f of files) t.match(header(dir, f), / 0$/, `${f}: marked as written before the export path ran`);
  const sizes = files.map((f) => statSync(path.join(dir, f)).size);

  const first = await run('--require', dir, exporting, ENDS_A_SPAN);
  t.equal(first.code, 0, first.stderr);
  t.match(cacheLines(first.stderr).join('\n'), /core-bundle\.js: used[\s\S]*core-bundle\.js written to/, 'used, then written again at exit');
  for (const f of files) t.match(header(dir, f), / 1$/, `${f}: now marked as holding the export path`);
  const core = files.findIndex((f) => f.startsWith('core-bundle'));
  t.ok(statSync(path.join(dir, files[core]!)).size > sizes[core]! + 50_000, 'the core bundle\'s cache grew by the exporters\' functions');
  const written = files.map((f) => statSync(path.join(dir, f)).mtimeMs);

  for (const env of [exporting, {}]) {
    const next = await run('--require', dir, env, ENDS_A_SPAN);
    t.equal(next.code, 0, next.stderr);
    const lines = cacheLines(next.stderr);
    t.match(lines.join('\n'), /start-bundle\.js: used[\s\S]*tracing-bundle\.js: used[\s\S]*core-bundle\.js: used/, 'the next process uses it');
    t.equal(lines.length, 3, 'and writes nothing, exporting or not');
  }
  t.same(files.map((f) => statSync(path.join(dir, f)).mtimeMs), written, 'the files are left as they were');
});

// A process that ends by process.exit() with spans queued (many CLIs and test runners end so) has encoded them
// but never sent them: its exit's flush did not run. A file it writes must not claim the send half, or every
// later process compiles that half at its own exit.
t.test('a process that ends before its exit\'s flush writes the cache as lacking the export path; the next exporting one writes it again', async (t) => {
  const port = await refusedPort();
  const exporting = { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` };
  const dir = cacheDir(t);
  const cut = await run('--require', dir, exporting, `${ENDS_A_SPAN}; process.exit(0)`);
  t.equal(cut.code, 0, cut.stderr);
  const files = cacheFiles(dir);
  t.equal(files.length, 3, 'written at its exit');
  const core = files.find((f) => f.startsWith('core-bundle'))!;
  t.match(header(dir, core), / 0$/, 'the core bundle\'s file marked as written before the export path ran');
  const size = statSync(path.join(dir, core)).size;

  const next = await run('--require', dir, exporting, ENDS_A_SPAN);
  t.equal(next.code, 0, next.stderr);
  t.match(cacheLines(next.stderr).join('\n'), /core-bundle\.js: used[\s\S]*core-bundle\.js written to/, 'the next exporting process uses it, then writes it again at exit');
  t.match(header(dir, core), / 1$/, 'now marked as holding the export path');
  t.ok(statSync(path.join(dir, core)).size > size, 'and it grew by the send half');
});

// Likewise a file written by a process that patched no package (a script that requires nothing instrumented)
// lacks the require hook's path for a package's files and the patching: the first process that patches one writes
// it again. A file is written again only by a process that ran all it holds and more, so two kinds of process
// (one exporting, one patching) do not write it back and forth.
t.test('a cache written before any package was patched is written again by the first process that patches one, once', async (t) => {
  const port = await refusedPort();
  const exporting = { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` };
  const pkg = path.join(mkdtempSync(path.join(tmpdir(), 'code-cache-pkg-')), 'node_modules', 'express');
  t.teardown(() => rmSync(path.dirname(path.dirname(pkg)), { recursive: true, force: true }));
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'express', version: '4.21.0', main: 'index.js' }));
  writeFileSync(path.join(pkg, 'index.js'), "module.exports = function express() {}; module.exports.Router = require('./router');\n");
  writeFileSync(path.join(pkg, 'router.js'), 'function Router() {}\nRouter.prototype.handle = function () {};\nRouter.prototype.use = function () {};\nRouter.prototype.route = function () {};\nmodule.exports = Router;\n');
  const PATCHES = `const use = require(${JSON.stringify(path.join(pkg, 'router.js'))}).prototype.use; console.log(require(${JSON.stringify(pkg)}).Router.prototype.use !== use)`;
  const coverages = (dir: string) => cacheFiles(dir).map((f) => `${f.split('-')[0]} ${header(dir, f).slice(-1)}`);
  const dir = cacheDir(t);

  const nothing = await run('--require', dir, {}, 'void 0');
  t.equal(nothing.code, 0, nothing.stderr);
  t.same(coverages(dir), ['start 0', 'tracing 0'], 'written by a process that patched nothing');

  const first = await run('--require', dir, {}, PATCHES);
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout.trim(), 'true', 'the package is patched');
  t.match(cacheLines(first.stderr).join('\n'), /tracing-bundle\.js: used[\s\S]*tracing-bundle\.js written to/, 'used, then written again');
  t.same(coverages(dir), ['core 2', 'start 2', 'tracing 2'], 'now marked as holding the package path');
  const written = cacheFiles(dir).map((f) => statSync(path.join(dir, f)).mtimeMs);

  for (const [env, script, what] of [[{}, PATCHES, 'patching'], [exporting, ENDS_A_SPAN, 'exporting without patching'], [{}, 'void 0', 'patching nothing']] as const) {
    const next = await run('--require', dir, env, script);
    t.equal(next.code, 0, next.stderr);
    t.equal(cacheLines(next.stderr).filter((l) => l.includes('written to')).length, 0, `a process ${what} writes nothing`);
  }
  t.same(cacheFiles(dir).map((f) => statSync(path.join(dir, f)).mtimeMs), written, 'the files are left as they were');

  const both = await run('--require', dir, exporting, `${PATCHES}; ${ENDS_A_SPAN}`);
  t.equal(both.code, 0, both.stderr);
  t.same(coverages(dir), ['core 3', 'start 3', 'tracing 3'], 'a process that runs both writes them again, holding both');
});

t.test('a long-running process that exports writes the cache again once its first batch has had time to go out', async (t) => {
  const dir = cacheDir(t);
  await run('--require', dir);
  const script = `${ENDS_A_SPAN}; setTimeout(() => console.log(require('fs').readdirSync(${JSON.stringify(dir)}).filter((f) => f.endsWith('.cache')).map((f) => require('fs').readFileSync(require('path').join(${JSON.stringify(dir)}, f), 'latin1').split('\\n', 1)[0].slice(-1)).join('')), 2600)`;
  // Batch delay 100 ms: the rewrite is due 2.1 s after the first span ended, while the app still runs.
  const r = await run('--require', dir, { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: 'http://127.0.0.1:9/v1/traces', TRACING_BATCH_DELAY_MS: '100' }, script);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '111', 'the three files marked as holding the export path before the app ends');
  t.equal(cacheLines(r.stderr).filter((l) => l.includes('written to')).length, 3, 'each written once');
});

t.test('a damaged cache is not used: the start is as without it, and the file is written again', async (t) => {
  const damages: Record<string, (data: Buffer) => Buffer> = {
    'one byte of the payload flipped': (data) => {
      const copy = Buffer.from(data);
      copy[copy.length - 100] ^= 0xff;
      return copy;
    },
    'cut short': (data) => data.subarray(0, data.length >> 1),
    'garbage': () => Buffer.from('not a code cache at all\n'.repeat(50)),
    'empty': () => Buffer.alloc(0),
  };
  for (const [name, damage] of Object.entries(damages)) {
    const dir = cacheDir(t);
    await run('--require', dir);
    const files = cacheFiles(dir);
    for (const f of files) writeFileSync(path.join(dir, f), damage(readFileSync(path.join(dir, f))));
    const damaged = await run('--require', dir);
    t.equal(damaged.code, 0, damaged.stderr);
    t.same(JSON.parse(damaged.stdout), TRACED, `${name}: traced`);
    t.match(cacheLines(damaged.stderr).join('\n'), /start-bundle\.js: [^\n]*stale or damaged; written again[\s\S]*tracing-bundle\.js: [^\n]*stale or damaged/, `${name}: not used`);
    const again = await run('--require', dir);
    t.match(cacheLines(again.stderr).join('\n'), /start-bundle\.js: used[\s\S]*tracing-bundle\.js: used/, `${name}: rewritten and used by the next start`);
  }
});

t.test('a cache of another build of the bundle is not used', async (t) => {
  const dir = cacheDir(t);
  await run('--require', dir);
  // Same name, same length: only the key (build id, size, times, inode, Node, flags) tells them apart.
  for (const f of cacheFiles(dir)) {
    const file = path.join(dir, f);
    writeFileSync(file, readFileSync(file, 'latin1').replace(/\n[^\n]*\|/, (m) => m.replace(/[0-9a-f]/, (c) => (c === '0' ? '1' : '0'))), 'latin1');
  }
  const r = await run('--require', dir);
  t.same(JSON.parse(r.stdout), TRACED, 'traced');
  t.match(cacheLines(r.stderr).join('\n'), /stale or damaged/, 'the key does not match: not used');
});

t.test('a directory others can write, a link or a file of another user is not trusted; the app runs traced', async (t) => {
  const cases: Array<[string, (dir: string) => void]> = [
    ['a group- and world-writable directory', (dir) => {
      mkdirSync(dir, { mode: 0o700 });
      chmodSync(dir, 0o777);
    }],
    ['a symbolic link to a directory', (dir) => {
      const real = `${dir}-real`;
      mkdirSync(real, { mode: 0o700 });
      symlinkSync(real, dir);
    }],
  ];
  if (process.getuid!() === 0) {
    cases.push(['a directory of another user', (dir) => {
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, 65534, 65534);
    }]);
  } else {
    t.comment('the other-user case needs root to chown a directory: skipped');
  }
  for (const [name, make] of cases) {
    const dir = cacheDir(t);
    make(dir);
    for (let i = 0; i < 2; i++) {
      const r = await run('--require', dir);
      t.equal(r.code, 0, r.stderr);
      t.same(JSON.parse(r.stdout), TRACED, `${name}: traced (start ${i + 1})`);
      t.match(cacheLines(r.stderr).join('\n'), /start-bundle\.js: not used: [^\n]*not a directory of this user/, `${name}: not used`);
      t.match(r.stderr, /start-bundle\.js not written: [^\n]*not a directory of this user/, `${name}: nothing written there`);
      t.equal(r.stderr.replace(/\[tracing-agent\] (debug|info): [^\n]*\n/g, ''), '', `${name}: nothing above debug`);
    }
    t.same(cacheFiles(dir), [], `${name}: no cache file in it`);
  }

  // A cache file another user could have written, in a directory of ours.
  const dir = cacheDir(t);
  await run('--require', dir);
  for (const f of cacheFiles(dir)) chmodSync(path.join(dir, f), 0o666);
  const r = await run('--require', dir);
  t.same(JSON.parse(r.stdout), TRACED, 'a world-writable cache file: traced');
  t.match(cacheLines(r.stderr).join('\n'), /not a file of this user that only this user can write/, 'and not used');

  // A cache file that is a link, even to a good cache file of ours: not followed (the file is opened with O_NOFOLLOW).
  const linked = cacheDir(t);
  await run('--require', linked);
  const elsewhere = `${linked}-elsewhere`;
  mkdirSync(elsewhere, { mode: 0o700 });
  for (const f of cacheFiles(linked)) {
    writeFileSync(path.join(elsewhere, f), readFileSync(path.join(linked, f)), { mode: 0o600 });
    rmSync(path.join(linked, f));
    symlinkSync(path.join(elsewhere, f), path.join(linked, f));
  }
  const l = await run('--require', linked);
  t.equal(l.code, 0, l.stderr);
  t.same(JSON.parse(l.stdout), TRACED, 'a linked cache file: traced');
  t.match(cacheLines(l.stderr).join('\n'), /start-bundle\.js: not read \(ELOOP\); written again after start/, 'and not followed');
  t.notMatch(cacheLines(l.stderr).join('\n'), /: used /, 'no bundle used a linked file');
});

t.test('a cache directory that cannot be created (read-only disk, a file in the way): silent, traced', async (t) => {
  const dir = cacheDir(t);
  writeFileSync(path.dirname(dir) + '/file', '');
  const r = await run('--require', path.join(path.dirname(dir), 'file', 'cache'));
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), TRACED, 'traced');
  t.match(r.stderr, /start-bundle\.js not written: ENOTDIR/, 'one debug line');
  t.equal(r.stderr.replace(/\[tracing-agent\] (debug|info): [^\n]*\n/g, ''), '', 'nothing above debug');
  const quiet = await run('--require', path.join(path.dirname(dir), 'file', 'cache'), { TRACING_LOG_LEVEL: 'warn' });
  t.equal(quiet.stderr, '', 'silent at the default log level');
});

t.test('TRACING_CODE_CACHE=false turns it off; a bad value warns once and keeps the default', async (t) => {
  const dir = cacheDir(t);
  const off = await run('--import', dir, { TRACING_CODE_CACHE: 'false' });
  t.equal(off.code, 0, off.stderr);
  t.same(JSON.parse(off.stdout), TRACED, 'traced');
  t.same(cacheLines(off.stderr), [], 'no cache line');
  t.notOk(existsSync(dir), 'no cache directory created');

  const bad = await run('--import', dir, { TRACING_CODE_CACHE: 'maybe', TRACING_LOG_LEVEL: 'warn' });
  t.same(JSON.parse(bad.stdout), TRACED, 'traced');
  t.equal(bad.stderr, '[tracing-agent] warn: TRACING_CODE_CACHE: "maybe" is not accepted; expected true or false (also 1/0, yes/no, on/off); using the default true.\n', 'one warning naming the variable and the accepted values');
  t.equal(cacheFiles(dir).length, 3, 'the default (on) is used');

  const relative = await run('--import', dir, { TRACING_CACHE_DIR: 'relative/dir', TRACING_LOG_LEVEL: 'warn' });
  t.same(JSON.parse(relative.stdout), TRACED, 'traced');
  t.match(relative.stderr, /^\[tracing-agent\] warn: TRACING_CACHE_DIR: "relative\/dir" is not accepted; expected an absolute directory path; using the default "[^"]+acme-tracing-agent-\d+"\.\n$/, 'a relative directory: one warning');
});

t.test('stack traces name the bundle; under --enable-source-maps the bundle loads as before and maps to TypeScript', async (t) => {
  const throwing = `try { require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'config', 'load.js'))}).loadConfig(null); } catch (err) { console.log(err.stack.split('\\n')[1]); }`;
  const dir = cacheDir(t);
  await run('--require', dir, {}, throwing);
  const cached = await run('--require', dir, {}, throwing);
  t.match(cacheLines(cached.stderr).join('\n'), /start-bundle\.js: used/, 'from the cache');
  t.match(cached.stdout, /start-bundle\.js:\d+:\d+\)/, 'the frame names the bundle file and line');

  const mapped = await run('--require', dir, {}, throwing, ['--enable-source-maps']);
  t.equal(mapped.code, 0, mapped.stderr);
  t.match(mapped.stdout, /src\/config\/(load|file)\.ts:\d+:\d+\)/, 'mapped to the TypeScript source');
  t.same(cacheLines(mapped.stderr), [], 'the cache is not involved');
});

t.test('worker threads: the agent starts in the main thread only, without loading worker_threads at start', async (t) => {
  const script = `
    const started = Symbol.for('@acme/tracing-agent.started');
    const atStart = process.moduleLoadList.includes('NativeModule worker_threads');
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`
      const { parentPort } = require('node:worker_threads');
      parentPort.postMessage({ started: globalThis[Symbol.for('@acme/tracing-agent.started')] === true, bundle: require.cache[\${JSON.stringify(${JSON.stringify(BUNDLE)})}] !== undefined });
    \`, { eval: true });
    w.once('message', (inWorker) => {
      console.log(JSON.stringify({ main: globalThis[started] === true, atStart, inWorker }));
    });
  `;
  for (const flag of ['--import', '--require']) {
    const r = await run(flag, cacheDir(t), { TRACING_LOG_LEVEL: 'warn' }, script);
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout), { main: true, atStart: false, inWorker: { started: false, bundle: false } }, `${flag}: main thread only`);
    t.equal(r.stderr, '', `${flag}: no warning`);
  }
});
