// The floor of any AsyncLocalStorage-based tracer, for comparison with the agent (server-instructions.mjs
// --agents benchmarks/micro/als-floor,<build>): one storage, each request's handler run in it, nothing else.
// On Node 20 the storage's async hook then copies the store onto every async resource the request makes.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';

const storage = new AsyncLocalStorage();
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request') return storage.run({ event }, () => emit.call(this, event, req, res));
  return emit.apply(this, arguments);
};
