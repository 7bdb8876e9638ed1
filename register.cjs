// `node --require @acme/tracing-agent/register app.js`, and what register.mjs loads.
// Must never stop the app from starting, and must start at most one agent per process.
'use strict';
const STARTED = Symbol.for('@acme/tracing-agent.started');
try {
  // Worker threads inherit --import/--require: the main thread's agent is the process's agent.
  const { isMainThread } = require('node:worker_threads');
  // Given twice (--import and NODE_OPTIONS, or two installed copies): the first one wins.
  if (isMainThread && !globalThis[STARTED]) {
    Object.defineProperty(globalThis, STARTED, { value: true });
    startAgent().start();
  }
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}

// The start path is two files (scripts/bundle-start.mjs, part of `npm run build`): this one, start() and the
// configuration, and the tracing half start() loads once tracing is on; one read and one compile each instead
// of ~70. Their modules are the same instances as the dist files they come from.
function startAgent() {
  try {
    return require('./dist/src/agent/start-bundle.js');
  } catch (err) {
    // A build without the bundle step (tsc alone): the same code, file by file.
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('start-bundle.js')) return require('./dist/src/agent/start.js');
    throw err;
  }
}
