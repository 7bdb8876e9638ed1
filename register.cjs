// `node --require @acme/tracing-agent/register app.js`, and what register.mjs loads.
'use strict';
try {
  require('./dist/src/agent/start.js').start();
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}
