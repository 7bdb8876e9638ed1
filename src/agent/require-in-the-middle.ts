import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { debugPackageWanted } from '../config/debug-package.js';

const silentDebug = Object.assign(() => undefined, { enabled: false });

/**
 * Loads require-in-the-middle. It requires `debug` at load time, which costs 5-25 ms of start-up
 * (tty, util, supports-color) to print nothing unless `DEBUG` is set; so, when `DEBUG` is unset and
 * nothing has loaded that copy of `debug` yet, a silent stand-in is served for that one require and
 * taken out of the cache again, so the app's own `require('debug')` loads the real package as usual.
 */
export function loadRequireInTheMiddle<T>(): T {
  if (debugPackageWanted()) return require('require-in-the-middle') as T;
  let debugFile: string | null = null;
  try {
    debugFile = require.resolve('debug', { paths: [path.dirname(require.resolve('require-in-the-middle'))] });
  } catch {
    // Not resolvable from here: require-in-the-middle will find its own, at full cost.
  }
  if (debugFile === null || require.cache[debugFile] !== undefined) return require('require-in-the-middle') as T;
  const standIn = new nodeModule.Module(debugFile);
  standIn.filename = debugFile;
  standIn.exports = () => silentDebug;
  standIn.loaded = true;
  require.cache[debugFile] = standIn;
  try {
    return require('require-in-the-middle') as T;
  } finally {
    if (require.cache[debugFile] === standIn) delete require.cache[debugFile];
  }
}
