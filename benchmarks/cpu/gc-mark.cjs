// Preloaded (--require) into a server by ./attribute.mjs: on SIGUSR2 writes a marker line to stdout, in order
// with V8's --trace-gc-nvp lines, so the scavenges of a measured window can be cut out of the output, and the
// heap's used bytes then.
'use strict';
const v8 = require('node:v8');
let n = 0;
process.on('SIGUSR2', () => {
  let newSpace = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') newSpace = s.space_size;
  // The heap's used bytes: with the bytes each collection in between freed, what the window allocated.
  const used = v8.getHeapStatistics().used_heap_size;
  process.stdout.write(`GC-MARK ${n++} ${JSON.stringify({ newSpace, used, rss: process.memoryUsage().rss })}\n`);
});
