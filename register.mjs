// The zero-code entry: `node --import @acme/tracing-agent/register app.js`.
// The only file with side effects on import; it must never stop the app from starting.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require('./register.cjs');
} catch (err) {
  process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
}
