import fs = require('node:fs');
import path = require('node:path');
import type { Incomplete, Pending, WriterHost } from './code-cache.js';

/**
 * The writing half of the code cache (./code-cache.ts loads and checks it): writes a bundle's cache file off
 * the start path, once per bundle, Node version and flags, and again when the file lacks a path this process ran;
 * keeps the directory bounded. A separate file because most processes never write: they find a complete file,
 * and code-cache.js, compiled without a cache in every process (it is what loads the cache), is smaller
 * without this half.
 */

// The write waits this long after start: the app's own start comes first, and functions that ran by
// then are in the cache. A process that ends earlier writes at exit instead.
const WRITE_DELAY_MS = 1000;

// What this half uses of the reading half, handed over by ./code-cache.ts when it loads this file: an import
// back would make the two files a run-time cycle (so also the coverage bits, its EXPORT_PATH and PACKAGE_PATCH).
let host: WriterHost;
export function attach(reader: WriterHost): void {
  host = reader;
}

const pending: Pending[] = [];
/**
 * Bundles compiled from, or written to, a cache file that lacks one of the paths (code-cache.ts, EXPORT_PATH and
 * PACKAGE_PATCH): V8 caches only the functions that ran before the write, and a file written by a process that
 * exported nothing (exporter `none`, an app that ended no span before the write, a server 1 s after its start:
 * before its first batch) lacks the mapping, encoding and sending code; every process using it then compiles that
 * code at its first export (~19 M instructions, 4 - 5 ms of CPU for issue 21's job on Node 20). Likewise a file
 * written by a process that patched no package (a script that requires nothing instrumented) lacks the require
 * hook's package path. Written again once this process has run all the file holds and more (`covers`): never
 * back and forth between processes that run different paths.
 */
const incomplete: Incomplete[] = [];
// The package path has run here: a package was patched.
let packagePatchRan_ = false;
// Whether the span exporters' code has run in this process: 'running' from the building of the span
// processor until its first batch has had time to go out, then 'ran'; at exit 'running' counts as 'ran' once
// the exit's flush has ended (`exitFlushEnded`).
let exportPath: 'not run' | 'running' | 'ran' = 'not run';
let exiting = false;
/**
 * The exit's flush has ended: its send has run (answered, refused or cut off at the deadline). A process that
 * ends before that (`process.exit()` with spans queued: many CLIs and test runners end so; a flush past the
 * exit bound) has run the encoding but not the send half, and a file written then and marked as holding the
 * export path made every later process compile that half at its own exit (Node 20, issue 21's job: +5.7 M
 * instructions per process, docs/performance.md, issue 21, round thirteen).
 */
let exitFlushDone = false;
let writeScheduled = false;

/** The exit's flush has ended (see `exitFlushDone`). */
export function exitFlushEnded(): void {
  exitFlushDone = true;
}

/** Bundles compiled from a cache file that lacks a path: written again once this process has run more. */
export function lacksPaths(entries: readonly Incomplete[]): void {
  incomplete.push(...entries);
}

/** Whether a file written now would hold everything one of coverage `file` holds, and more. */
function covers(here: number, file: number): boolean {
  return (here & ~file) !== 0 && (file & ~here) === 0;
}

/** The paths a file written now holds. */
function coverageHere(): number {
  const exportPathRanHere = exportPath === 'ran' || (exportPath === 'running' && exiting && exitFlushDone);
  return (exportPathRanHere ? host.EXPORT_PATH : 0) | (packagePatchRan_ ? host.PACKAGE_PATCH : 0);
}

/** Moves the files this process can now write with more than they hold to the pending writes; whether any. */
function queueCovered(): boolean {
  const here = coverageHere();
  let queued = false;
  for (let i = incomplete.length - 1; i >= 0; i--) {
    if (!covers(here, incomplete[i]!.coverage)) continue;
    pending.push(incomplete.splice(i, 1)[0]!);
    queued = true;
  }
  return queued;
}

function encode(payload: Buffer, key: string, coverage: number): Buffer {
  const header = Buffer.from(`${host.FORMAT} ${payload.length} ${coverage}\n${key}\n`, 'utf8');
  return Buffer.concat([header, Buffer.alloc(host.alignedOffset(header.length) - header.length, ' '), payload, payload]);
}

/** Writes the bundle's cache file after start (or at exit, if the process ends first). */
export function schedule(entry: Pending): void {
  pending.push(entry);
  scheduleWrite();
}

function scheduleWrite(): void {
  if (writeScheduled) return;
  writeScheduled = true;
  const timer = setTimeout(writePending, WRITE_DELAY_MS);
  timer.unref();
  // A process that ends before the timer writes at exit: short scripts are where the cache pays most.
  process.once('exit', writePendingAtExit);
}

/**
 * The span processor is being built: the exporters' code runs from now on, and has run once `settleMs` have
 * passed (the batch delay and a margin for the first send) or at exit. A cache this process used or wrote
 * without that code is then written again, once (the file's header says it holds the export path, and no
 * later process rewrites it). Costs nothing when the cache in use already holds it.
 */
export function exportPathStarted(settleMs: number): void {
  if (exportPath !== 'not run') return;
  exportPath = 'running';
  // Nothing lacks it and nothing waits to be written (a file this process writes before then lacks it and is
  // added here): no timer and no listener.
  if (!incomplete.some((e) => (e.coverage & host.EXPORT_PATH) === 0) && pending.length === 0) return;
  const timer = setTimeout(exportPathRan, settleMs);
  timer.unref();
  process.once('exit', exportPathRanAtExit);
}

function exportPathRan(): void {
  process.removeListener('exit', exportPathRanAtExit);
  exportPath = 'ran';
  if (!queueCovered()) return;
  // At exit the pending write's own listener may have run already: write here.
  if (exiting || !writeScheduled) writePending();
}

/**
 * A package was patched: the require hook's package path has run (synchronously, inside the app's start). A
 * cache this process used or wrote without it is written again off the start path, as a first write is.
 */
export function packagePatchRan(): void {
  if (packagePatchRan_) return;
  packagePatchRan_ = true;
  if (!queueCovered()) return;
  if (exiting) writePending();
  else scheduleWrite();
}

function exportPathRanAtExit(): void {
  exiting = true;
  // Ended without its exit's flush: what lacks the export path still lacks it; a later process writes it.
  if (exitFlushDone) exportPathRan();
}

function writePendingAtExit(): void {
  exiting = true;
  writePending();
}

/** Writes every cache waiting to be written; never throws, at most one debug line each. */
function writePending(): void {
  process.removeListener('exit', writePendingAtExit);
  writeScheduled = false;
  const coverage = coverageHere();
  let written: string | null = null;
  for (const entry of pending.splice(0)) {
    try {
      writeCache(entry, coverage);
      if (coverage !== (host.EXPORT_PATH | host.PACKAGE_PATCH)) incomplete.push({ ...entry, coverage });
      written = path.dirname(entry.cacheFile);
      host.note('debug', `code cache for ${path.basename(entry.file)} written to ${entry.cacheFile}`);
    } catch (err) {
      host.note('debug', `code cache for ${path.basename(entry.file)} not written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (written !== null) prune(written);
}

// Each install, Node version and set of options has files of its own (100 - 300 KB each): a directory
// shared by many (CI runners, temporary installs) keeps the newest MAX_CACHE_FILES and loses the rest,
// which a process still using them writes again. Temporary files a killed writer left behind go too.
const MAX_CACHE_FILES = 64;
const STALE_TEMP_MS = 60 * 60 * 1000;
const OUR_FILE = /^(start|tracing|core)-bundle-[0-9a-f]+-v[\w.-]+\.cache(\.[\w-]+\.tmp)?$/;

/** Keeps the cache directory bounded; runs after a write, never on the start path; never throws. */
function prune(dir: string): void {
  try {
    const files: Array<{ name: string; mtimeMs: number }> = [];
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      if (!OUR_FILE.test(name)) continue;
      const st = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
      if (st === undefined || !st.isFile()) continue;
      if (name.endsWith('.tmp')) {
        if (now - st.mtimeMs > STALE_TEMP_MS) fs.rmSync(path.join(dir, name), { force: true });
      } else {
        files.push({ name, mtimeMs: st.mtimeMs });
      }
    }
    if (files.length <= MAX_CACHE_FILES) return;
    files.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const { name } of files.slice(MAX_CACHE_FILES)) fs.rmSync(path.join(dir, name), { force: true });
    host.note('debug', `code cache: ${files.length - MAX_CACHE_FILES} older file(s) removed from ${dir} (at most ${MAX_CACHE_FILES} kept)`);
  } catch (err) {
    host.note('debug', `code cache: ${dir} not pruned: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function writeCache({ script, cacheFile, key }: Pending, coverage: number): void {
  const dir = path.dirname(cacheFile);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!host.trustedDir(dir)) throw new Error(`${dir} is not a directory of this user that only this user can write`);
  const data = encode(script.createCachedData(), key, coverage);
  const temp = `${cacheFile}.${process.pid}-${Date.now().toString(36)}.tmp`;
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    try {
      for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, cacheFile);
  } catch (err) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // Already gone.
    }
    throw err;
  }
}
