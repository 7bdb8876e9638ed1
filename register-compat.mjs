// The package's `./register` for `--import` where Node resolves no `module-sync` condition (before 20.19 and
// 22.10): on the releases of those without process.getBuiltinModule (20.6 - 20.15, 22.0 - 22.2) register.mjs
// cannot load register.cjs synchronously, so this file does it with createRequire. Elsewhere register.mjs has
// started the agent already and register.cjs (required here, or not at all) starts at most one per process.
// Must never stop the app from starting.
import { createRequire } from 'node:module';
import './register.mjs';

if (typeof process.getBuiltinModule !== 'function') {
  try {
    createRequire(import.meta.url)('./register.cjs');
  } catch (err) {
    process.stderr.write(`[tracing-agent] warn: could not start, the app runs untraced: ${err && err.message}\n`);
  }
}
