// `node --require @acme/tracing-agent/register app.js`, and what register.mjs loads.
// Must never stop the app from starting, and must start at most one agent per process.
// Its functions are parenthesized function expressions, defined before the start at the end of the file (see
// register.mjs: V8 compiles them with the file instead of again at their first call).
'use strict';
const STARTED = Symbol.for('@acme/tracing-agent.started');

// `require('node:worker_threads').isMainThread` without loading worker_threads (~5 ms: it pulls in
// streams and the worker machinery). In a worker Node replaces the process-wide calls it does not allow
// there (process.chdir, process.abort) with stubs it marks `disabled` (Node 20 - 26); we run as a
// preload, before the app could replace them. Where neither is a function, ask worker_threads.
const inWorkerThread = (function inWorkerThread() {
  const { chdir, abort } = process;
  if (typeof chdir !== 'function' && typeof abort !== 'function') return !require('node:worker_threads').isMainThread;
  return (chdir && chdir.disabled === true) || (abort && abort.disabled === true) || false;
});

// The start path is two files (scripts/bundle-start.mjs, part of `npm run build`): this one, start() and the
// configuration, and the tracing half start() loads once tracing is on; one read and one compile each instead
// of ~70. Their modules are the same instances as the dist files they come from. Both load through a V8 code
// cache when one is usable (src/agent/code-cache.ts; TRACING_CODE_CACHE=false turns it off).
const startAgent = (function startAgent() {
  const bundle = require('path').join(__dirname, 'dist', 'src', 'agent', 'start-bundle.js');
  try {
    return loader().loadBundle(bundle, module);
  } catch (err) {
    // A build without the bundle step (tsc alone): the same code, file by file.
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('start-bundle.js')) return require('./dist/src/agent/start.js');
    throw err;
  }
});

// The code cache's loader; a dist built before it existed (a checkout whose dist is older than this file) loads
// the bundle with require(), as before.
const loader = (function loader() {
  try {
    return require('./dist/src/agent/code-cache.js');
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('code-cache.js')) return { loadBundle: (file) => require(file) };
    throw err;
  }
});

try {
  // Worker threads inherit --import/--require: the main thread's agent is the process's agent.
  // Given twice (--import and NODE_OPTIONS, or two installed copies): the first one wins.
  if (!inWorkerThread() && !globalThis[STARTED]) {
    Object.defineProperty(globalThis, STARTED, { value: true });
    startAgent().start();
  }
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}
