// Preloaded (--require) into a server by idle-gc.mjs: a full GC on SIGUSR2, as V8's memory reducer
// runs one in an idle process. Needs --expose-gc.
process.on('SIGUSR2', () => globalThis.gc());
