#!/usr/bin/env node
// Build step (`npm run build`, after tsc): writes the start path as three files of compiled modules.
// dist/src/agent/start-bundle.js, which register.cjs loads: start() and the configuration, all the agent
// loads with TRACING_ENABLED=false. dist/src/agent/tracing-bundle.js, which start() loads once tracing is
// on: the hooks' half (module hooks, registry, exit hooks, the global tracer's registration).
// dist/src/agent/core-bundle.js, loaded at the first instrumentation that runs or the first use of the
// global tracer: tracer core, the default OTLP/HTTP exporter, the instrumentation kit, the http
// instrumentation and the web frameworks' instrumentations. A process that loads nothing instrumented and
// starts no span never reads it (docs/performance.md, "Start-up", round eleven).
//
// Why: loading ~70 small files costs a resolve, a stat, a read and a compile each; one file costs one
// of each (docs/performance.md, "Start-up"). Why not esbuild's bundle: each module here stays the very
// module instance `require()` of its dist path returns. The bundle registers every module it holds in
// `require.cache` under its real dist file name, evaluated on first use, so the instrumentations (still
// separate files, loaded on demand), the public API (`require('@acme/tracing-agent')`) and the bundle
// share one copy of the tracer, the log level, the registry and the suppression flag. Each module keeps
// its real `__filename`/`__dirname` (paths to import-in-the-middle's hook file, the viewer page, the
// package.json lookups resolve as before) and the `require` of its own file. Modules not held here
// (instrumentations, other exporters, the CLI, the viewer, the bundler plugins) load from disk as before.
//
// A stack trace through the bundle names start-bundle.js, the function, and a line under a comment
// naming the dist file; start-bundle.js.map maps each line back to its dist file and TypeScript source
// (read only under --enable-source-maps).
//
// Usage: node scripts/bundle-start.mjs   (expects a tsc build in dist/)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, tokenizer, tokTypes } from 'acorn';
import { full as walkFull } from 'acorn-walk';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceMap } from './bundle-source-map.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const START = {
  out: path.join(DIST, 'src', 'agent', 'start-bundle.js'),
  entries: ['src/agent/start.js'],
  exportsOf: 'src/agent/start.js',
  // The configuration's own modules: instrumentations/index.js is read for the names, the code it loads is not.
  only: /^(src\/agent\/start|src\/config\/[a-z-]+|src\/util\/[a-z-]+|src\/propagation\/names|instrumentations\/index)\.js$/,
};
// What start() requires once tracing is on (loadTracingModules in src/agent/start.ts): the hooks' half, which
// runs at start. A require of a module of the core bundle from here loads that bundle first (CORE_BUNDLE below).
const TRACING = {
  out: path.join(DIST, 'src', 'agent', 'tracing-bundle.js'),
  entries: ['src/api/global.js', 'src/agent/shutdown.js', 'src/agent/hooks.js'],
  // The public API's entry, held here without its requires: `require('@acme/tracing-agent')` is then a module of
  // this bundle, whose first require of the tracer loads the core bundle, instead of ~40 files read from disk.
  extra: ['src/index.js'],
  exportsOf: null,
  only: /./,
  companion: 'src/agent/core-bundle.js',
};
// The tracer core, loaded at the first instrumentation that runs or the first use of globalTracer() (buildCore in
// src/agent/start.ts): tracer, scope, propagators, samplers, span processors and the default OTLP/HTTP exporter,
// the instrumentation kit, and the instrumentations held here (http's, the web frameworks').
const CORE = {
  out: path.join(DIST, 'src', 'agent', 'core-bundle.js'),
  entries: [
    'src/tracer.js', 'src/api/noop.js', 'src/api/tracer.js', 'src/export/pipeline.js', 'src/propagation/factory.js', 'src/sampling/factory.js',
    'src/agent/lazy-processor.js', 'src/agent/kit.js', 'src/agent/register-instrumentation.js',
    'instrumentations/http/http.js', 'instrumentations/http/https.js',
    'instrumentations/frameworks/express.js', 'instrumentations/frameworks/fastify.js', 'instrumentations/frameworks/koa.js', 'instrumentations/frameworks/hapi.js',
  ],
  exportsOf: null,
  only: /./,
};

// What stays a separate file: code the start path needs only for some configurations or apps. Held
// here, a module not used costs little (its source is pre-parsed, never run), but every byte is read
// and scanned by every process, so the rarely used parts stay out.
const SEPARATE = [
  /^src\/(cli|viewer|bundler)\//,
  /^src\/index\.js$/,
  // The code cache's loader: register loads it from its own file before any bundle (it is what reads them), so
  // a copy held in a bundle would be text every process reads and never runs.
  /^src\/agent\/code-cache(-write)?\.js$/,
  // Exporters and encoders not on the default path (OTLP/HTTP protobuf), and the logs pipeline.
  /^src\/export\/(zipkin|zipkin-json|console|json-lines|span-json|otlp-json|otlp-grpc|grpc-sender|grpc-wire|memory|log-[a-z-]+|otlp-logs[a-z-]*)\.js$/,
  // Propagators off by default.
  /^src\/propagation\/(b3|jaeger)\.js$/,
  // Every instrumentation's code but http's (patched at start on Node 20, and used by most apps) and the web
  // frameworks' (express, fastify, koa, hapi and their shared server-span and route-template: ~18 KB here).
  // Loaded from their own files, an express app paid 3 files read and compiled without the code cache and 8
  // resolves (stat, realpath, package scope) at its first require('express'): 11 M instructions of the ~107 M
  // the agent adds to it on Node 20; an app that loads no framework pays for the ~18 KB read only (V8 does not
  // parse what it never runs when the cache is used).
  /^instrumentations\/(?!index\.js$|http\/|frameworks\/)/,
];

/** Relative requires of a compiled module, literal ones only (`require("./x.js")`). */
function requiresOf(source) {
  const found = [];
  for (const m of source.matchAll(/\brequire\((["'])(\.{1,2}\/[^"']+)\1\)/g)) found.push(m[2]);
  return found;
}

/**
 * The source with its comments taken out and every line kept (the source map is by line): a quarter of the
 * compiled files is comments (the why of the code, for readers of src/), and every process reads and V8
 * scans every byte. The TypeScript sources keep them; a stack through the bundle maps back to them. Found by
 * a real parser (acorn), not a pattern: a string or regular expression may hold what looks like one.
 */
function withoutComments(source, rel) {
  const comments = [];
  parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true, onComment: (block, text, start, end) => comments.push([start, end, block]) });
  let out = '';
  let at = 0;
  for (const [start, end, block] of comments) {
    if (source.startsWith('//# sourceMappingURL=', start)) continue;
    out += source.slice(at, start);
    // A block comment's line breaks stay; a comment between two tokens leaves a space between them.
    out += block ? source.slice(start, end).replace(/[^\n]+/g, '').padEnd(1, ' ') : '';
    at = end;
  }
  out += source.slice(at);
  // Lines left blank or with trailing blanks: emptied (same line count).
  const stripped = out.split('\n').map((line) => line.trimEnd()).join('\n');
  if (stripped.split('\n').length !== source.split('\n').length) throw new Error(`bundle-start: ${rel}: taking the comments out changed the line count`);
  return stripped;
}

/**
 * The source with each line's indentation taken out, every line kept (the bundles' source maps are by line): a
 * sixth of the bundles' text is indentation, and every byte of it costs every process twice on the core bundle,
 * read into fresh memory and copied into a fresh large-object string, a page fault per 4 KB each (~20 faults, ~0.25
 * ms of CPU per process on the VM of docs/performance.md, round fourteen). A line that starts inside a template
 * literal or a continued string keeps its leading blanks: they are part of the value. Not for code-cache.js, whose
 * tsc map is by column.
 */
function withoutIndentation(source, rel) {
  const options = { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true };
  // Tokens whose text spans lines: a line that starts inside one starts inside a value.
  const spans = [];
  for (const token of tokenizer(source, options)) {
    const valued = token.type === tokTypes.template || token.type === tokTypes.invalidTemplate || token.type === tokTypes.string;
    const newline = valued ? source.indexOf('\n', token.start) : -1;
    if (newline !== -1 && newline < token.end) spans.push([token.start, token.end]);
  }
  const lines = source.split('\n');
  let offset = 0;
  let next = 0;
  const out = lines.map((line) => {
    while (next < spans.length && spans[next][1] <= offset) next++;
    const inside = next < spans.length && spans[next][0] < offset;
    offset += line.length + 1;
    return inside ? line : line.trimStart();
  });
  const stripped = out.join('\n');
  if (stripped.split('\n').length !== lines.length) throw new Error(`bundle-start: ${rel}: taking the indentation out changed the line count`);
  return stripped;
}

/** A module's text as a bundle holds it: without its comments, then without its lines' indentation. */
function compacted(source, rel) {
  return withoutIndentation(withoutComments(source, rel), rel);
}

/**
 * A module's relative requires as a flat array literal of pairs, request then path under dist/: a few words
 * per module, where an object literal without a prototype was a dictionary of its own (~0.3 KB) per module.
 */
function depsOf(rel, source) {
  const entries = [...new Set(requiresOf(source))].map((spec) => [spec, relOf(rel, spec)]).filter(([, target]) => !target.startsWith('..'));
  return `[${entries.map(([spec, target]) => `${JSON.stringify(spec)}, ${JSON.stringify(target)}`).join(', ')}]`;
}

function relOf(rel, spec) {
  return path.relative(DIST, path.resolve(path.dirname(path.join(DIST, rel)), spec)).split(path.sep).join('/');
}

/** The modules reachable from `entries`, leaving out `skip` (held by the other bundle) and SEPARATE. */
function collect({ entries, only }, skip) {
  const order = [];
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    if (skip.has(rel) || !only.test(rel) || SEPARATE.some((re) => re.test(rel))) return;
    const file = path.join(DIST, rel);
    if (!existsSync(file)) return;
    const source = readFileSync(file, 'utf8');
    order.push({ rel, source: compacted(source, rel) });
    for (const spec of requiresOf(source)) {
      const target = path.relative(DIST, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      if (!target.startsWith('..')) visit(target);
    }
  };
  for (const entry of entries) visit(entry);
  return order;
}

// The runtime part: registers each module in require.cache, evaluated on first use of its exports.
// Each module is one small record until then: a HeldModule (an instance of Module's prototype, not built by its
// constructor), its `exports` an accessor of the shared prototype, its `path`, `paths` and `children` made on
// first read. Built by `new Module()` with closures and an accessor pair of its own, the ~85 records were
// ~100 KB of the young generation that every start kept alive (and its scavenges copied) whether or not the
// module ever ran (docs/performance.md, "Short-lived processes", round ten).
const PRELUDE = `'use strict';
// build id: BUILD_ID
// Generated by scripts/bundle-start.mjs from the compiled files named below; do not edit.
// The loader's Module class from this file's own module (which Node, or code-cache.js, made with it): require('node:module')
// would load lib/module.js, which a CommonJS app on Node 20 never loads otherwise (src/agent/module-info.ts, loaderModule).
const Module = typeof module.constructor._load === 'function' ? module.constructor : require('node:module');
const path = require('node:path');
const DIST = path.resolve(__dirname, '..', '..');
const parentModule = module;
const held = new Map();
// Path work is a good part of what the bundle costs (a join and a resolve per module and per require):
// on POSIX a file name is DIST + '/' + its path, and the node_modules lookup list is computed once per folder.
const fileOf = path.sep === '/' ? (rel) => DIST + '/' + rel : (rel) => path.join(DIST, rel);
// Each module's folder (its __dirname) without path.dirname: Node optimises its path functions once they have run
// often enough, and every call of ours brings an app's start closer to that compile (docs/performance.md, round fifteen).
const dirOf = path.sep === '/' ? (file) => file.slice(0, file.lastIndexOf('/')) : (file) => path.dirname(file);
const pathsByDir = new Map();
function own(mod, key, value) {
  Object.defineProperty(mod, key, { value, writable: true, configurable: true, enumerable: true });
  return value;
}
class HeldModule {
  #body;
  #deps;
  #full;
  #state = 0;
  #value;
  constructor(filename, deps, body, full) {
    this.id = filename;
    this.filename = filename;
    this.loaded = true;
    this.#deps = deps;
    this.#body = body;
    this.#full = full;
  }
  get exports() {
    if (this.#state === 0) this.#evaluate();
    return this.#value;
  }
  set exports(value) {
    this.#value = value;
  }
  get path() {
    return own(this, 'path', dirOf(this.filename));
  }
  set path(value) {
    own(this, 'path', value);
  }
  get paths() {
    const dir = this.path;
    let paths = pathsByDir.get(dir);
    if (paths === undefined) pathsByDir.set(dir, (paths = Module._nodeModulePaths(dir)));
    return own(this, 'paths', paths.slice());
  }
  set paths(value) {
    own(this, 'paths', value);
  }
  get children() {
    return own(this, 'children', []);
  }
  set children(value) {
    own(this, 'children', value);
  }
  get parent() {
    return parentModule;
  }
  #evaluate() {
    const initial = (this.#value = {});
    this.#state = 1;
    try {
      this.#body.call(initial, initial, requireFor(this, this.#deps, this.#full), this, this.filename, this.path);
    } catch (err) {
      // As Node does for a module that throws while loading: the next require tries again, from disk.
      this.#state = 0;
      if (Module._cache[this.filename] === this) delete Module._cache[this.filename];
      throw err;
    }
    this.#state = 2;
    this.#body = null;
    own(this, 'exports', this.#value);
  }
}
Object.setPrototypeOf(HeldModule.prototype, Module.prototype);
function define(rel, deps, body, full) {
  const filename = fileOf(rel);
  // Already loaded from its own file (someone required it before the agent started): keep that instance.
  if (Module._cache[filename] !== undefined) return;
  const mod = new HeldModule(filename, deps, body, full === true);
  Module._cache[filename] = mod;
  held.set(rel, mod);
}
// The bundle that holds the modules this one requires but does not hold (the tracer core, for the hooks' half),
// loaded at the first such require, through the code cache as the start loads the others; null when there is none.
let COMPANION = COMPANION_BUNDLE;
function loadCompanion() {
  const file = fileOf(COMPANION);
  COMPANION = null;
  try {
    const loader = Module._cache[fileOf('src/agent/code-cache.js')];
    if (loader !== undefined && loader.loaded === true) loader.exports.loadBundle(file, parentModule);
    else require(file);
  } catch {
    // Missing or failing: each module is then read from its own file, as in a build without bundles.
  }
}
// deps: the module's relative requires, resolved when the bundle was written, as pairs ['./x.js', 'src/x.js', ...].
// full: the module reads require.resolve, .cache, .main or .extensions; the others get the function alone.
function requireFor(mod, deps, full) {
  const req = function require(id) {
    // A module of this bundle, or of the other one, or one already loaded from its file: no resolve, no stat.
    let rel;
    for (let i = 0; i < deps.length; i += 2) {
      if (deps[i] === id) {
        rel = deps[i + 1];
        break;
      }
    }
    if (rel !== undefined) {
      const own = held.get(rel);
      if (own !== undefined) {
        if (Module._cache[own.filename] === own) return own.exports;
      } else {
        let loaded = Module._cache[fileOf(rel)];
        if (loaded === undefined && COMPANION !== null) {
          loadCompanion();
          loaded = Module._cache[fileOf(rel)];
        }
        if (loaded !== undefined && loaded.loaded === true) return loaded.exports;
      }
    }
    // Anything else through the module's own require.
    return mod.require(id);
  };
  if (full) {
    req.resolve = (id, options) => Module._resolveFilename(id, mod, false, options);
    req.resolve.paths = (id) => Module._resolveLookupPaths(id, mod);
    req.cache = Module._cache;
    req.main = require.main;
    req.extensions = Module._extensions;
  }
  return req;
}
`;

/** True when a module uses more of `require` than the call (the bundle then gives it the whole of it). */
function usesRequireProperties(source) {
  return /\brequire\s*\.\s*(resolve|cache|main|extensions)\b/.test(source);
}

function bundle({ out: OUT, exportsOf, companion }, modules) {
  const lines = PRELUDE.replace('COMPANION_BUNDLE', companion === undefined ? 'null' : JSON.stringify(companion)).split('\n');
  lines.pop();
  // Line map: bundle line (0-based) → [module index, line in its dist file], for the source map.
  const map = lines.map(() => null);
  modules.forEach(({ rel, source }, index) => {
    lines.push(`// ${path.posix.join('dist', rel)}`);
    map.push(null);
    lines.push(`define(${JSON.stringify(rel)}, ${depsOf(rel, source)}, function (exports, require, module, __filename, __dirname) {`);
    map.push(null);
    source.split('\n').forEach((line, at) => {
      if (line.startsWith('//# sourceMappingURL=')) return;
      lines.push(asciiOnly(line, rel));
      map.push([index, at]);
    });
    lines.push(usesRequireProperties(source) ? '}, true);' : '});');
    map.push(null);
  });
  if (exportsOf !== null) {
    if (!modules.some((m) => m.rel === exportsOf)) throw new Error(`bundle-start: ${exportsOf} not found; run tsc first`);
    lines.push(`module.exports = Module._cache[path.join(DIST, ${JSON.stringify(exportsOf)})].exports;`);
  }
  lines.push(`//# sourceMappingURL=${path.basename(OUT)}.map`);
  // The build id (line 2) keys the V8 code cache of this file (src/agent/code-cache.ts): a hash of the rest.
  const text = lines.join('\n') + '\n';
  writeFileSync(OUT, text.replace('BUILD_ID', createHash('sha256').update(text).digest('hex').slice(0, 32)));
  writeFileSync(`${OUT}.map`, JSON.stringify(sourceMap(OUT, DIST, modules, map)));
  return { modules: modules.length, bytes: Buffer.byteLength(lines.join('\n')) };
}

// Every character outside ASCII (comments' dashes and symbols) as a \\u escape: V8 holds an ASCII source as a
// one-byte string, which Node reads and V8 scans about twice as fast (tracing-bundle.js: read + compile 14 -> 8 ms
// on Node 20), and the code cache's source stays small. The same value in a string, template or regular
// expression; only a tagged template's raw text (String.raw) would differ, so a tag on such a line stops the build.
function asciiOnly(line, rel) {
  if (!/[^\x00-\x7f]/.test(line)) return line;
  if (!/^\s*(\/\/|\*|\/\*)/.test(line) && /[\w$)\]]\s*`/.test(line)) throw new Error(`bundle-start: ${rel}: a tagged template on a line with non-ASCII text; write it in ASCII`);
  return line.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Each half stops where a later one begins: the start bundle at the tracing and core entries, the hooks' half at
// the core's entries and the start bundle's modules, the core at both.
const startModules = collect(START, new Set([...TRACING.entries, ...CORE.entries]));
const inStart = new Set(startModules.map((m) => m.rel));
const tracingModules = [...collect(TRACING, new Set([...inStart, ...CORE.entries])), ...TRACING.extra.map((rel) => ({ rel, source: compacted(readFileSync(path.join(DIST, rel), 'utf8'), rel) }))];
const inTracing = new Set(tracingModules.map((m) => m.rel));
const coreModules = collect(CORE, new Set([...inStart, ...inTracing]));
for (const [spec, modules] of [[START, startModules], [TRACING, tracingModules], [CORE, coreModules]]) {
  const { modules: count, bytes } = bundle(spec, modules);
  if (process.argv.includes('--verbose')) console.log(`bundle-start: ${count} modules, ${bytes} bytes → ${path.relative(ROOT, spec.out)}`);
}

// The code cache's loader is the one file of the start path that V8 compiles without a cache in every process
// (it is what reads the caches): taken out, its comments (~45 % of tsc's output) are no longer scanned at each
// start (−0.55 M instructions of issue 21's job on Node 20, callgrind; docs/performance.md, round thirteen).
// Every line is kept, so tsc's source map of the file (by line and column) still points at code-cache.ts.
const LOADER = path.join(DIST, 'src', 'agent', 'code-cache.js');
if (existsSync(LOADER)) writeFileSync(LOADER, compiledWithTheFile(withoutComments(readFileSync(LOADER, 'utf8'), 'src/agent/code-cache.js'), 'src/agent/code-cache.js'));

/**
 * The file's top-level functions as parenthesized function expressions, `const f = (function f() {...});`. V8
 * compiles a function written so together with the file (its guess that it runs at once); a declaration it
 * pre-parses with the file, then parses again and compiles at its first call. code-cache.js is compiled without
 * a cache in every process and calls nearly all of its functions at start: issue 21's job on Node 20, 678.4 ->
 * 676.4 M instructions (docs/performance.md, "What remains for start-up", round seventeen). Lines and columns
 * stay where tsc's map puts them: `const f = (` ends the line before the function, `);` follows its closing
 * brace, and the `exports.f = f;` lines tsc writes at the top (a declaration is hoisted, a constant is not) are
 * emptied there and written after the last line of code. Fails the build if any other top-level code uses such a
 * function before its definition.
 */
function compiledWithTheFile(source, rel) {
  const ast = parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true });
  const names = new Set(ast.body.filter((n) => n.type === 'FunctionDeclaration').map((n) => n.id.name));
  const edits = [];
  const exported = [];
  const defined = new Set();
  for (const node of ast.body) {
    if (node.type === 'FunctionDeclaration') {
      const lineStart = source.lastIndexOf('\n', node.start - 1);
      if (lineStart === -1 || source.slice(lineStart + 1, node.start).trim() !== '') throw new Error(`bundle-start: ${rel}: function ${node.id.name} does not start its line`);
      edits.push([lineStart, lineStart, ` const ${node.id.name} = (`], [node.end, node.end, ');']);
      defined.add(node.id.name);
      continue;
    }
    const e = node.type === 'ExpressionStatement' ? node.expression : null;
    const isExport = e?.type === 'AssignmentExpression' && e.left.type === 'MemberExpression' && e.left.object.name === 'exports' && e.right.type === 'Identifier' && e.left.property.name === e.right.name && names.has(e.right.name);
    if (isExport) {
      edits.push([node.start, node.end, '']);
      exported.push(source.slice(node.start, node.end));
      continue;
    }
    walkFull(node, (n) => {
      if (n.type === 'Identifier' && names.has(n.name) && !defined.has(n.name)) throw new Error(`bundle-start: ${rel}: ${n.name} is used before its definition`);
    });
  }
  let out = source;
  // From the end, so each edit's offsets still hold; at one offset (a function's end and the next one's line
  // break) the later edit first, so the texts keep their order.
  const ordered = edits.map((edit, i) => [...edit, i]).sort((a, b) => b[0] - a[0] || b[3] - a[3]);
  for (const [start, end, text] of ordered) out = out.slice(0, start) + text + out.slice(end);
  const mapLine = out.lastIndexOf('\n//# sourceMappingURL=');
  const at = mapLine === -1 ? out.length : mapLine;
  return `${out.slice(0, at).trimEnd()}\n${exported.join('\n')}${out.slice(at)}`;
}
