// Preloaded (--require, before the agent's --import) into the server by ./under-load.mjs: writes the
// process's memory, by kind, every 250 ms to MEMORY_PROBE_OUT (JSON lines). Its own cost is the same
// with and without the agent.
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const out = process.env.MEMORY_PROBE_OUT;
const started = Date.now();
const snapshot = () => {
  const m = process.memoryUsage();
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size;
  fs.appendFileSync(out, JSON.stringify({
    t: Date.now() - started, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    newSpace: spaces.new_space ?? 0, oldSpace: spaces.old_space ?? 0, codeSpace: spaces.code_space ?? 0, largeObjects: spaces.large_object_space ?? 0,
  }) + '\n');
};
snapshot();
setInterval(snapshot, 250).unref();
