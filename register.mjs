// The zero-code entry: `node --import @acme/tracing-agent/register app.js`.
// The only file with side effects on import; it must never stop the app from starting.
//
// It runs register.cjs. Where Node has process.getBuiltinModule (20.16+, 22.3+), it does so without
// the CommonJS loader: register.cjs and the code cache's loader (dist/src/agent/code-cache.js) are
// read and compiled here, as require() would, but with no resolve (their paths are known), so an
// ES-module app does not compile the loader's resolve, read and extension code just for the agent
// (Node 20 compiles those functions at their first call: ~5 M instructions of an empty .mjs app's
// start-up). Anything else they require goes through require() as before.
// No import statement: `import ... from 'node:module'` builds that built-in's ES-module facade (~0.7 M
// instructions of every process on Node 20); getBuiltinModule serves every line that resolves the package's
// `./register` here (its `module-sync` condition: Node 20.19+, 22.10+). Where Node lacks getBuiltinModule
// (20.6 - 20.15, 22.0 - 22.2), the package's `import` condition is register-compat.mjs, which imports this
// file and then starts the agent through require().
// No top-level await here: it makes Node evaluate this file as an async module (~3 M instructions more on
// Node 20).
// Its functions are parenthesized function expressions, defined before the start at the end of the file: V8
// compiles such a function with the file, where a declaration is pre-parsed with it and then parsed and compiled
// again at its first call (this file and register.cjs are compiled without a cache in every process: ~0.4 M
// instructions of issue 21's job on Node 20, both files; dist/src/agent/code-cache.js is built so too).
const STARTED = Symbol.for('@acme/tracing-agent.started');


const runRegister = (function runRegister() {
  const getBuiltin = process.getBuiltinModule;
  if (typeof getBuiltin !== 'function') {
    startedByCompat();
    return;
  }
  // This file's folder as a path (Node 20.11+, so wherever getBuiltinModule is): no URL to parse. Undefined
  // for a URL that is not a file.
  const dir = import.meta.dirname;
  // Windows paths, a non-file URL, and under --enable-source-maps (Node maps only what its own loader
  // compiled): require(), as before.
  if (typeof dir !== 'string' || process.platform === 'win32' || process.sourceMapsEnabled === true) {
    getBuiltin('node:module').createRequire(import.meta.url)('./register.cjs');
    return;
  }
  const Module = getBuiltin('node:module');
  const { readFileSync } = getBuiltin('node:fs');
  const vm = getBuiltin('node:vm');
  // import() from these files, should they ever use one, resolves as from a file Node loaded itself.
  const dynamicImport = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  const options = (filename) => (dynamicImport === undefined ? { filename } : { filename, importModuleDynamically: dynamicImport });
  const own = new Set([`${dir}/register.cjs`, `${dir}/dist/src/agent/code-cache.js`]);

  // require() of one of the two files above: the same require.cache entry, module object and wrapper
  // arguments as Node gives a CommonJS file (`module.require` serves everything else they require).
  const load = (file, parent) => {
    const cached = Module._cache[file];
    if (cached !== undefined) return cached.exports;
    let source;
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      // Missing (a dist built before code-cache.js existed): require() reports it as it always did.
      if (parent !== undefined && err && err.code === 'ENOENT') return parent.require(file);
      throw err;
    }
    const fileDir = file.slice(0, file.lastIndexOf('/'));
    const mod = new Module(file, parent);
    mod.filename = file;
    mod.paths = Module._nodeModulePaths(fileDir);
    const require = (id) => (typeof id === 'string' && own.has(resolveOwn(fileDir, id)) ? load(resolveOwn(fileDir, id), mod) : mod.require(id));
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.cache = Module._cache;
    require.main = process.mainModule;
    // One vm.Script of the text inside the wrapper Node puts around a CommonJS file, on its first line so every
    // line keeps its number: vm.compileFunction would compile its own functions and its validators' at their
    // first call, where the bundles' vm.Script is compiled anyway (-0.35 M instructions of issue 21's job on
    // Node 20; docs/performance.md, round thirteen).
    const wrapper = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, options(file)).runInThisContext();
    Module._cache[file] = mod;
    try {
      wrapper.call(mod.exports, mod.exports, require, mod, file, fileDir);
    } catch (err) {
      if (Module._cache[file] === mod) delete Module._cache[file];
      throw err;
    }
    mod.loaded = true;
    return mod.exports;
  };
  load(`${dir}/register.cjs`, undefined);
});

// `./x` from `from`, as a path (no lookup); any other id as it is: only compared with the two paths above.
const resolveOwn = (function resolveOwn(from, id) {
  if (!id.startsWith('./')) return id;
  return `${from}/${id.slice(2)}`;
});

// Without getBuiltinModule this file cannot require() synchronously. register-compat.mjs (the package's
// `./register` on those Node releases) imports it and then starts the agent in its own body, which runs before
// this microtask; a process that imported this file by its path gets a warning instead of a silent no-agent.
const startedByCompat = (function startedByCompat() {
  queueMicrotask(() => {
    if (globalThis[STARTED] === undefined) {
      process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: Node ${process.version} has no process.getBuiltinModule; use --import @acme/tracing-agent/register (or register-compat.mjs).\n`);
    }
  });
});

try {
  if (globalThis[STARTED] === undefined) runRegister();
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}
