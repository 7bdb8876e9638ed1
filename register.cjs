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
    require('./dist/src/agent/start.js').start();
  }
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}
