import fs = require('node:fs');
import path = require('node:path');

/**
 * Loads the three start-path bundles (dist/src/agent/start-bundle.js, tracing-bundle.js and core-bundle.js)
 * with a V8 code cache, a file each, so that a process does not parse and compile ~380 KB of our code on
 * every start.
 *
 * Why our own and not `module.enableCompileCache()` (Node 22.1+): that one is process-wide (it would
 * cache the app's modules too, a side effect the user did not ask for), writes at exit on every run
 * that compiled something new, and does not exist on Node 20.
 *
 * The cache is only a speed-up and is never trusted blindly:
 * - it lives in a per-user directory (`TRACING_CACHE_DIR`, default `<tmpdir>/acme-tracing-agent-<uid>`),
 *   created with mode 0700 and used only if it is a real directory owned by this user that nobody else
 *   can write; each cache file must be a regular file of this user that nobody else can write;
 * - a file is used only when its key matches: the bundle's build id (a hash of its content written by
 *   scripts/bundle-start.mjs), the bundle's size, mtime, ctime and inode (an edit changes them), Node's
 *   version, V8's, the architecture and the flags; its payload is stored twice and the copies must match
 *   (V8 release builds verify no checksum), and V8 may still reject it (`cachedDataRejected`);
 * - it is written off the start path (an unref'd timer, or at exit if the process ends first: once per
 *   bundle, Node version and flags), to a temporary file renamed into place; once more by the first process
 *   that exports spans when the one written lacks the export path (see `exportPathStarted`), and by the first that
 *   patches a package when it lacks the require hook's package path (see `packagePatched`);
 * - any trouble (read-only disk, corrupt file, rejected data, other owner) means the bundle is compiled
 *   as without the cache, with at most one debug line.
 *
 * The module is registered as `require()` registers it: the same `require.cache` entry, `module`,
 * `exports`, `__filename` and `__dirname`, and a `require` of its own. Stack traces name the bundle's
 * file and line. Under `--enable-source-maps` the bundle is required as usual (Node maps only what it
 * compiles itself), as it is with `TRACING_CODE_CACHE=false`.
 *
 * One file, over the usual ~400 lines with its comments, on purpose: it is the one module of ours that every
 * traced process compiles without a cache (it is what loads the caches), so each file it were split into would
 * add a resolve, a read and a compile to every start (issue 21's short processes). What a start does not need
 * (writing a cache) is already apart, in code-cache-write.ts, loaded on demand; the built file drops these
 * comments (scripts/bundle-start.mjs).
 */

// The loader's Module class from this file's own module, which Node (or register.mjs) made with it:
// require('node:module') would load lib/module.js, which a CommonJS app on Node 20 never loads otherwise (see
// loaderModule in module-info.ts; this file is loaded alone, before the bundles that hold that one).
const Module: typeof import('node:module') =
  typeof (module.constructor as { _load?: unknown })._load === 'function' ? (module.constructor as typeof import('node:module')) : require('node:module');

export const FORMAT = 'acme-tracing-agent-code-cache-4';
const BOOLEAN_EXPECTED = 'true or false (also 1/0, yes/no, on/off)';

/** A compiled bundle whose cache file is to be written (./code-cache-write.ts). */
export interface Pending {
  script: import('node:vm').Script;
  file: string;
  cacheFile: string;
  key: string;
}

/**
 * What a cache file holds of the code most processes never run, as bits of its header's last field: V8 caches only
 * the functions that ran before the write, so a file written by a process that ran neither lacks them, and every
 * later process that runs them compiles them (see code-cache-write.ts).
 * - EXPORT_PATH: the exporters' mapping, encoding and sending (~19 M instructions of issue 21's job on Node 20).
 * - PACKAGE_PATCH: the require hook's path for a package's files and the patching of an instrumented package
 *   (~7.5 M instructions of the start-up benchmark's express app on Node 20, whose file the empty script wrote).
 */
export const EXPORT_PATH = 1;
export const PACKAGE_PATCH = 2;
const ALL_PATHS = EXPORT_PATH | PACKAGE_PATCH;

/** A bundle compiled from a cache file that lacks one of the paths above, and what that file holds. */
export interface Incomplete extends Pending {
  coverage: number;
}

/** What ./code-cache-write.ts uses of this file, handed to it when it loads (an import back would be a cycle). */
export interface WriterHost {
  FORMAT: string;
  EXPORT_PATH: number;
  PACKAGE_PATCH: number;
  alignedOffset(offset: number): number;
  note(level: 'warn' | 'debug', msg: string): void;
  trustedDir(dir: string): boolean;
}

interface Settings {
  enabled: boolean;
  dir: string | null;
}

/**
 * Bundles compiled from a cache file that lacks one of the paths (see code-cache-write.ts), held here until the
 * writer is needed: most processes use complete files and never load it.
 */
const usedIncomplete: Incomplete[] = [];
// A package was patched in this process (the package path has run), whether or not the writer was loaded then.
let packagePatchSeen = false;
let writer: typeof import('./code-cache-write.js') | null = null;
// Lines for the agent's log, held until its log level is known (see reportCodeCache).
const held: Array<{ level: 'warn' | 'debug'; msg: string }> = [];
let settings: Settings | null = null;
let logger: { warn(msg: string): void; debug(msg: string): void } | null = null;

/**
 * The writing half, loaded when something is to be written: a process after a build or upgrade, or the first
 * exporting process after a file that lacks the export path. Every other start skips reading and compiling it
 * (this file is compiled without a cache in every process: it is what loads the cache).
 */
function cacheWriter(): typeof import('./code-cache-write.js') {
  if (writer === null) {
    writer = loadOwnFile(path.join(__dirname, 'code-cache-write.js')) as typeof import('./code-cache-write.js');
    writer.attach({ FORMAT, EXPORT_PATH, PACKAGE_PATCH, alignedOffset, note, trustedDir });
    writer.lacksPaths(usedIncomplete.splice(0));
    if (packagePatchSeen) writer.packagePatchRan();
  }
  return writer;
}

/** The module `require()` already holds for an absolute file name: loading it again would run it twice. */
function loadedModule(file: string): NodeJS.Module | undefined {
  return (Module as unknown as { _cache: Record<string, NodeJS.Module | undefined> })._cache[file];
}

/**
 * A file of ours beside this one, loaded as `require()` would but without resolving its name: like the
 * bundles, nothing of the agent goes through `Module._resolveFilename` (an ES-module app's start never
 * resolves our files through the CommonJS loader; test/integration/startup/register-esm.test.ts).
 */
function loadOwnFile(file: string): unknown {
  const cached = loadedModule(file);
  if (cached !== undefined) return cached.exports;
  let script: import('node:vm').Script;
  try {
    const vm = require('node:vm') as typeof import('node:vm');
    script = new vm.Script(WRAP_HEAD + fs.readFileSync(file, 'utf8') + WRAP_TAIL, { filename: file });
  } catch {
    return require(file);
  }
  return evaluate(script, file, module);
}

/**
 * One buffer for everything the start reads: a bundle's text, then its cache file, then the next bundle's
 * (the two bundles load in one synchronous start). A buffer per read put ~870 KB into fresh memory, a page
 * fault per 4 KB page (the kernel maps and zeroes each; on a VM that costs several µs of CPU per fault); a
 * read into pages already touched faults no more (~110 faults fewer per start on Node 20). Sized to the read
 * (rounded up), not reserved large: glibc raises its mmap and trim thresholds to the size of the largest mapped
 * block a process frees, and a freed 1 MiB scratch kept ~2 - 3 MB more of malloc's memory resident under load
 * on Node 20 (every agent row of benchmarks/memory/under-load.mjs, TRACING_ENABLED=false included; gone with
 * MALLOC_MMAP_THRESHOLD_ fixed). Freed once the start is over: nothing holds it after.
 */
const SCRATCH_ROUNDING = 16 * 1024;
let scratch: Buffer | null = null;

function scratchBuffer(size: number, reserve = size): Buffer {
  if (scratch === null || scratch.length < size) {
    size = Math.max(size, reserve);
    if (scratch === null) process.nextTick(dropScratch);
    else releaseMemory(scratch);
    scratch = Buffer.allocUnsafeSlow(Math.ceil(size / SCRATCH_ROUNDING) * SCRATCH_ROUNDING);
  }
  return scratch;
}

function dropScratch(): void {
  if (scratch !== null) releaseMemory(scratch);
  scratch = null;
}

/**
 * Frees the buffer's memory now instead of at the garbage collection that finds it dead: the start's
 * scavenges promote it, and a promoted buffer waits for a full collection (on Node 20 the 1 MiB stayed in
 * `arrayBuffers` under load). Detaching it hands its memory to a new, unreferenced buffer (`transfer`, or a
 * transferring `structuredClone` where Node's V8 lacks it) that the next scavenge frees. Nothing holds a view
 * of it after the start: V8 has compiled from it, and the texts read from it are copies.
 */
function releaseMemory(buffer: Buffer): void {
  try {
    const memory = buffer.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
    if (typeof memory.transfer === 'function') memory.transfer(0);
    else structuredClone(memory, { transfer: [memory] });
  } catch {
    // Not detachable (a runtime that forbids it): the collector frees it as before.
  }
}

/**
 * `require(file)` for one of our bundles, through the code cache when it is on and usable.
 * `parent` is the requiring module, as `require()` would record it.
 */
export function loadBundle(file: string, parent: NodeJS.Module | undefined): unknown {
  const cached = loadedModule(file);
  if (cached !== undefined) return cached.exports;
  const s = currentSettings();
  if (!s.enabled || s.dir === null || process.sourceMapsEnabled === true) return require(file);
  let source: string | null;
  let stat: fs.Stats;
  let script: import('node:vm').Script;
  const cacheFile = path.join(s.dir, cacheFileName(file));
  // Opened and checked before the bundle's text is read, once: its size decides the scratch buffer's (see
  // reserveFor), and readCache reads it through this descriptor.
  const cache = openCache(s.dir, cacheFile);
  try {
    try {
      const fd = fs.openSync(file, 'r');
      try {
        stat = fs.fstatSync(fd);
        source = readWrapped(fd, stat.size, 'fd' in cache ? reserveFor(cache.size, stat.size) : 0);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Missing or unreadable: require() reports it as it always does (MODULE_NOT_FOUND for a tsc-only build).
      return require(file);
    }
    // Changed while it was read (a build writing it): require() reads what is there now.
    if (source === null) return require(file);
    try {
      script = compile(file, source, stat, cache, cacheFile);
    } catch (err) {
      // Whatever went wrong with the cache, require() compiles the file as always (and reports the file's own
      // syntax error, should it have one, as it always does).
      note('debug', `code cache for ${path.basename(file)}: not used (${err instanceof Error ? err.message : String(err)})`);
      return require(file);
    }
  } finally {
    if ('fd' in cache) fs.closeSync(cache.fd);
  }
  return evaluate(script, file, parent);
}

// The wrapper Node puts around a CommonJS file, on the bundle's first line so every line number is kept.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';
// Their bytes, copied in with Uint8Array#set: Buffer#write would compile Node's write and its validators at their
// first call, in every process (as Buffer#indexOf would in byteIndex; docs/performance.md, round thirteen).
const WRAP_HEAD_BYTES = Uint8Array.from(WRAP_HEAD, (c) => c.charCodeAt(0));
const WRAP_TAIL_BYTES = Uint8Array.from(WRAP_TAIL, (c) => c.charCodeAt(0));

/**
 * The file's `size` bytes inside the wrapper, as the one string V8 compiles; null when the file does not
 * hold exactly `size` bytes. Read into a buffer laid out as the wrapped text, which is then one Latin-1
 * copy: the bundles are ASCII (scripts/bundle-start.mjs), so that is their text. Reading the file as UTF-8
 * and wrapping it made two copies of the ~290 KB tracing bundle on the heap (the file's text and the
 * wrapped one V8 flattens before compiling), both in the young generation, and a third in a native buffer.
 * A file with other bytes is decoded as UTF-8, as before.
 */
function readWrapped(fd: number, size: number, reserve: number): string | null {
  const head = WRAP_HEAD.length;
  const buffer = scratchBuffer(head + size + WRAP_TAIL.length, reserve);
  buffer.set(WRAP_HEAD_BYTES, 0);
  if (readInto(fd, buffer, head, size) !== size) return null;
  // Nothing after `size` bytes: probed into the byte the wrapper's tail overwrites next.
  if (fs.readSync(fd, buffer, head + size, 1, size) !== 0) return null;
  buffer.set(WRAP_TAIL_BYTES, head + size);
  const isAscii = (require('node:buffer') as { isAscii?: (b: Uint8Array) => boolean }).isAscii;
  const body = buffer.subarray(head, head + size);
  if (typeof isAscii === 'function' && isAscii(body)) return heldOld(buffer.toString('latin1', 0, head + size + WRAP_TAIL.length));
  return heldOld(WRAP_HEAD + body.toString('utf8') + WRAP_TAIL);
}

/**
 * The text, moved to V8's old generation. V8 keeps a script's source for as long as the script lives (lazy
 * compiling, `Function#toString`), and a string made here is young: the start's scavenges copied the start and
 * tracing bundles' texts (126 KB) and then promoted them, and promoted the core's (a 211-KB young large object),
 * and V8 counts all of it towards growing the new space (on Node 24 to 8 MB at the load's first scavenge: +4 MB
 * of peak RSS; docs/performance.md, round eighteen). V8 internalizes a string used as a property name, into the
 * old generation, and leaves the young one a reference to that copy, which the next scavenge drops. Where a V8
 * does otherwise, the text stays young, as before.
 */
function heldOld(text: string): string {
  const names: Record<string, number> = Object.create(null);
  names[text] = 0;
  return text;
}

/**
 * How large the scratch buffer is made when the bundle's text is read into it: large enough for what is read of
 * the cache file next (its header and the first copy of the payload, see readPayload), so that one allocation
 * serves both reads. Sized to the text alone, the cache's part (0.8 - 1.2 x the text) did not always fit, and a
 * second, larger buffer was allocated for it while the first waited for a scavenge: fresh memory twice, a page
 * fault per 4 KB page of each. A cache file far larger than a cache's (more than 8 x the text) is not reserved
 * for: readPayload's checks reject it, or its first line does, before the buffer grows.
 */
// Room for the header (its key grows with the options Node runs with); a longer one costs a second allocation,
// nothing else.
const HEADER_ALLOWANCE = 2048;
function reserveFor(cacheSize: number, textSize: number): number {
  return cacheSize <= 8 * textSize ? Math.ceil((cacheSize + HEADER_ALLOWANCE) / 2) : 0;
}

/** The bundle compiled with its cached data when there is a usable one; schedules the write when there is not. */
function compile(file: string, source: string, stat: fs.Stats, cache: OpenCache, cacheFile: string): import('node:vm').Script {
  const key = cacheKey(source.slice(WRAP_HEAD.length, WRAP_HEAD.length + 400), stat);
  const found = key === null ? { data: undefined, why: 'not used: the file has no build id' } : readCache(cache, cacheFile, key);
  const vm = require('node:vm') as typeof import('node:vm');
  // import() from our code, should it ever use one, resolves as from a file Node loaded itself.
  const dynamicImport = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const script = new vm.Script(source, {
    filename: file,
    ...(found.data === undefined ? {} : { cachedData: found.data }),
    ...(dynamicImport === undefined ? {} : { importModuleDynamically: dynamicImport as never }),
  });
  let outcome: string;
  if (found.data !== undefined && script.cachedDataRejected !== true) {
    outcome = `used ${cacheFile}`;
    if (found.coverage !== ALL_PATHS && key !== null) {
      const entry = { script, file, cacheFile, key, coverage: found.coverage ?? 0 };
      if (writer === null) usedIncomplete.push(entry);
      else writer.lacksPaths([entry]);
    }
  } else {
    outcome = found.data !== undefined ? `${cacheFile} rejected by V8; written again after start` : found.why;
    if (key !== null) cacheWriter().schedule({ script, file, cacheFile, key });
  }
  note('debug', `code cache for ${path.basename(file)}: ${outcome}`);
  return script;
}

/** What `Module.prototype._compile` does with the compiled wrapper, for a file of ours. */
function evaluate(script: import('node:vm').Script, file: string, parent: NodeJS.Module | undefined): unknown {
  const M = Module as unknown as {
    new (id: string, parent?: NodeJS.Module): NodeJS.Module;
    _cache: Record<string, NodeJS.Module | undefined>;
    _nodeModulePaths(dir: string): string[];
    _resolveFilename(request: string, parent: NodeJS.Module, isMain: boolean, options?: { paths?: string[] }): string;
    _resolveLookupPaths(request: string, parent: NodeJS.Module): string[] | null;
    _extensions: NodeJS.RequireExtensions;
  };
  const dir = path.dirname(file);
  const mod = new M(file, parent);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(dir);
  const req = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) => M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => M._resolveLookupPaths(request, mod);
  req.resolve = resolve;
  req.main = process.mainModule;
  req.extensions = M._extensions;
  req.cache = M._cache as NodeJS.Dict<NodeJS.Module>;
  // Registered before it runs, as require() does, so a cycle back to it gets the partial exports.
  M._cache[file] = mod;
  try {
    const fn = script.runInThisContext({ displayErrors: true }) as (this: unknown, ...args: unknown[]) => void;
    fn.call(mod.exports, mod.exports, req, mod, file, dir);
  } catch (err) {
    if (M._cache[file] === mod) delete M._cache[file];
    throw err;
  }
  mod.loaded = true;
  return mod.exports;
}

/**
 * Debug lines about the cache and the warning for a bad setting, written once the agent's log level is
 * known (start() calls this after loading the configuration, and again after the tracing bundle).
 */
export function reportCodeCache(log: { warn(msg: string): void; debug(msg: string): void }): void {
  currentSettings();
  for (const { level, msg } of held.splice(0)) log[level](msg);
  logger = log;
}

export function note(level: 'warn' | 'debug', msg: string): void {
  if (logger !== null) logger[level](msg);
  else held.push({ level, msg });
}

/** TRACING_CODE_CACHE and TRACING_CACHE_DIR, read from the environment: the cache is used before the configuration loads. */
function currentSettings(): Settings {
  if (settings !== null) return settings;
  const env = process.env;
  let enabled = true;
  const rawEnabled = env.TRACING_CODE_CACHE;
  if (rawEnabled !== undefined) {
    const word = rawEnabled.trim().toLowerCase();
    if (['false', '0', 'no', 'off'].includes(word)) enabled = false;
    else if (!['true', '1', 'yes', 'on'].includes(word)) note('warn', `TRACING_CODE_CACHE: ${JSON.stringify(rawEnabled)} is not accepted; expected ${BOOLEAN_EXPECTED}; using the default true.`);
  }
  let dir: string | null = defaultDir();
  const rawDir = env.TRACING_CACHE_DIR;
  if (rawDir !== undefined) {
    const trimmed = rawDir.trim();
    if (path.isAbsolute(trimmed) && !/[\u0000-\u001f\u007f]/.test(trimmed)) dir = path.resolve(trimmed);
    else note('warn', `TRACING_CACHE_DIR: ${JSON.stringify(rawDir)} is not accepted; expected an absolute directory path; using the default ${dir === null ? '(none)' : JSON.stringify(dir)}.`);
  }
  settings = { enabled, dir };
  return settings;
}

/** `<tmpdir>/acme-tracing-agent-<uid>`, or null where there is no user id to check the owner against. */
function defaultDir(): string | null {
  if (typeof process.getuid !== 'function') return null;
  // os.tmpdir() on POSIX, without loading `os` for it.
  let tmp = process.env.TMPDIR || process.env.TMP || process.env.TEMP || '/tmp';
  if (tmp.length > 1 && tmp.endsWith('/')) tmp = tmp.slice(0, -1);
  return path.join(tmp, `acme-tracing-agent-${process.getuid()}`);
}

/** Safe to trust: a real directory (not a link) of this user that nobody else can write. */
export function trustedDir(dir: string): boolean {
  if (typeof process.getuid !== 'function') return false;
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  return st !== undefined && isTrustedDir(st);
}

function isTrustedDir(st: fs.Stats): boolean {
  return typeof process.getuid === 'function' && st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/**
 * The key a cache file must carry to be used for `source`: null when the bundle has no build id (a file
 * not written by scripts/bundle-start.mjs), which then runs without a cache.
 */
function cacheKey(start: string, stat: fs.Stats): string | null {
  const id = /^\/\/ build id: ([0-9a-f]{16,})$/m.exec(start);
  if (id === null) return null;
  return [id[1], stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.dev, process.version, process.versions.v8, process.arch, flags()].join('|');
}

// Options whose value is a script or a module to load: they change nothing V8 compiles, and their values are
// often one-off (a `-e` one-liner, a temporary file), which would give every run a file of its own.
const VALUE_ONLY_OPTIONS = new Set(['-e', '--eval', '-p', '--print', '-pe', '-r', '--require', '--import', '--loader', '--experimental-loader']);

/**
 * Node's and V8's options (`execArgv` and NODE_OPTIONS), but for the scripts and modules they name. V8 also
 * checks its own flags' hash and rejects a cache made under other flags; keyed by them, processes run with
 * different flags keep a file each instead of rewriting one.
 */
let flagsKey: string | null = null;
function flags(): string {
  if (flagsKey !== null) return flagsKey;
  const kept: string[] = [];
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o !== '')];
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const eq = option.indexOf('=');
    const name = eq === -1 ? option : option.slice(0, eq);
    if (!VALUE_ONLY_OPTIONS.has(name)) kept.push(option);
    else if (eq === -1) i++;
  }
  // JSON: no line break in the key, whatever the options hold.
  flagsKey = JSON.stringify(kept);
  return flagsKey;
}

/** One file per bundle path, Node version, architecture and flags: installs and versions do not overwrite each other's. */
function cacheFileName(file: string): string {
  return `${path.basename(file, '.js')}-${fnv1a(`${file}\0${flags()}`).toString(16)}-${process.version}-${process.arch}.cache`;
}

/** A cache file opened for reading after the checks below, or why it is not (missing, not ours, not trusted). */
type OpenCache = { fd: number; size: number } | { why: string };

function unread(err: unknown, cacheFile: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? `none yet, written after start to ${cacheFile}` : `not read (${code ?? String(err)}); written again after start`;
}

/**
 * The cache file, if its directory is a real directory of this user that nobody else can write, and the file
 * (opened without following a link) a regular file of this user that nobody else can write. One lstat of the
 * directory, one open and one fstat per bundle: the file's size from that fstat sizes the scratch buffer too.
 */
function openCache(dir: string, cacheFile: string): OpenCache {
  try {
    const dirStat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (dirStat === undefined) return { why: `none yet, written after start to ${cacheFile}` };
    if (!isTrustedDir(dirStat)) return { why: `not used: ${dir} is not a directory of this user that only this user can write` };
    const fd = fs.openSync(cacheFile, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o022) !== 0) {
      fs.closeSync(fd);
      return { why: `not used: ${cacheFile} is not a file of this user that only this user can write` };
    }
    return { fd, size: st.size };
  } catch (err) {
    return { why: unread(err, cacheFile) };
  }
}

/** The cached data for `key` from the opened cache file, or why there is none (see openCache; stale or damaged). */
function readCache(cache: OpenCache, cacheFile: string, key: string): { data: Buffer | undefined; why: string; coverage?: number } {
  if (!('fd' in cache)) return { data: undefined, why: cache.why };
  let found: { payload: Buffer; coverage: number } | undefined;
  try {
    found = readPayload(cache.fd, cache.size, key);
  } catch (err) {
    return { data: undefined, why: unread(err, cacheFile) };
  }
  return found === undefined ? { data: undefined, why: `${cacheFile} is stale or damaged; written again after start` } : { data: found.payload, why: '', coverage: found.coverage };
}

/** Reads the file's first `size` bytes into `buffer` at `offset`; returns how many it got (fewer at its end). */
function readInto(fd: number, buffer: Buffer, offset: number, size: number): number {
  let at = 0;
  while (at < size) {
    const read = fs.readSync(fd, buffer, offset + at, size - at, at);
    if (read === 0) break;
    at += read;
  }
  return at;
}

// File layout: `<FORMAT> <payload length> <the paths it holds, 0 - 3: EXPORT_PATH | PACKAGE_PATCH>\n<key>\n`, blanks up to the next multiple of 8 bytes, then
// `<payload><payload>`. V8 reads cached data in place only at an 8-byte-aligned address and copies it
// otherwise (~250 KB of both bundles' payloads, into fresh memory); the file is read to an aligned address
// (a buffer of its own), so the payload's offset in the file is what must be aligned. The payload is stored twice and the
// copies compared (a native memcmp), because V8's release builds verify no checksum of a code cache and
// accept damaged data; a checksum would cost more than the cache saves: loading crypto or zlib takes
// 4 - 6 ms of CPU, a JavaScript checksum over ~240 KB 3 - 9 ms (measured on Node 20 and 24).
const FIRST_LINE_MAX = 200;

/**
 * The payload of a file of `total` bytes whose header matches `key`, or undefined. The header and the first copy
 * are read into the scratch buffer; the second copy is compared with the first from the file, a chunk at a time,
 * instead of being read beside it: the buffer is half the file's size, and its pages are fresh memory (a page
 * fault each, ~12 µs of CPU on the VM of docs/performance.md, round twelve).
 */
function readPayload(fd: number, total: number, key: string): { payload: Buffer; coverage: number } | undefined {
  const headLength = Math.min(total, FIRST_LINE_MAX + 1);
  let buffer = scratchBuffer(headLength);
  if (readInto(fd, buffer, 0, headLength) !== headLength) return undefined;
  const first = byteIndex(buffer, 10, 0, headLength);
  if (first === -1) return undefined;
  const [format, length, coverage] = buffer.toString('latin1', 0, first).split(' ');
  // One digit (files written before PACKAGE_PATCH existed say 0 or 1, and mean the same).
  if (format !== FORMAT || coverage === undefined || coverage.length !== 1 || !(coverage >= '0' && coverage <= '3')) return undefined;
  const size = Number(length);
  if (!Number.isSafeInteger(size) || size <= 0 || 2 * size >= total) return undefined;
  // Where the first copy ends, if the file is what its first line says (checked below once the key is read).
  const firstEnd = total - size;
  buffer = scratchBuffer(firstEnd);
  if (readInto(fd, buffer, 0, firstEnd) !== firstEnd) return undefined;
  const second = byteIndex(buffer, 10, first + 1, firstEnd);
  if (second === -1 || buffer.toString('utf8', first + 1, second) !== key) return undefined;
  const start = alignedOffset(second + 1);
  if (start + size !== firstEnd) return undefined;
  const payload = buffer.subarray(start, firstEnd);
  return sameAsFile(fd, payload, firstEnd, total) ? { payload, coverage: coverage.charCodeAt(0) - 48 } : undefined;
}

/** Where `byte` first is in `buffer` from `from`, before `end`; -1 if not there. */
function byteIndex(buffer: Uint8Array, byte: number, from: number, end: number): number {
  const at = Uint8Array.prototype.indexOf.call(buffer, byte, from);
  return at < end ? at : -1;
}

const COMPARE_CHUNK = 16 * 1024;

/** Whether the file's bytes from `from` to `end` are `expected`'s (a native memcmp per chunk read). */
function sameAsFile(fd: number, expected: Buffer, from: number, end: number): boolean {
  if (end - from !== expected.length) return false;
  const chunk = Buffer.allocUnsafeSlow(Math.min(COMPARE_CHUNK, expected.length));
  for (let at = 0; at < expected.length; ) {
    const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, expected.length - at), from + at);
    if (read === 0 || !chunk.subarray(0, read).equals(expected.subarray(at, at + read))) return false;
    at += read;
  }
  return true;
}

const PAYLOAD_ALIGNMENT = 8;
export function alignedOffset(offset: number): number {
  return Math.ceil(offset / PAYLOAD_ALIGNMENT) * PAYLOAD_ALIGNMENT;
}

/** 32-bit FNV-1a of a short string: the cache file's name, not a check of its content. */
function fnv1a(input: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The span processor is being built: the exporters' code runs from now on. A cache this process used or wrote
 * without that code is written again once it has run (code-cache-write.ts). The usual case, every file in use
 * holding it already and nothing waiting to be written, costs nothing: no writer, timer or listener.
 */
export function exportPathStarted(settleMs: number): void {
  if (writer === null && !usedIncomplete.some((e) => (e.coverage & EXPORT_PATH) === 0)) return;
  cacheWriter().exportPathStarted(settleMs);
}

/**
 * An instrumented package was patched (the registry calls this at its first): the require hook's path for a
 * package's files has run. A cache this process used or wrote without it is written again after start (the
 * start-up benchmark's express app used the hooks' file its empty script had written: +7.5 M instructions of
 * compiles on Node 20). Costs nothing when every file in use holds it and nothing waits to be written.
 */
export function packagePatched(): void {
  if (packagePatchSeen) return;
  packagePatchSeen = true;
  if (writer === null && !usedIncomplete.some((e) => (e.coverage & PACKAGE_PATCH) === 0)) return;
  cacheWriter().packagePatchRan();
}

/** The exit's flush has ended: its send has run. Nothing to do unless something is to be written. */
export function exitFlushEnded(): void {
  writer?.exitFlushEnded();
}
