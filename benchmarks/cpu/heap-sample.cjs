// Preloaded (--require) into a server by ./attribute.mjs --allocations yes: at the first SIGUSR2 starts V8's
// sampling heap profiler (every HEAP_SAMPLE_INTERVAL bytes on average, objects that the next scavenge or
// mark-compact frees included: what a request allocates, not only what it keeps), at the second stops it and
// writes the profile to HEAP_SAMPLE_OUT. Paired with gc-mark.cjs, whose SIGUSR2 marks the same window.
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const out = process.env.HEAP_SAMPLE_OUT;
const interval = Number(process.env.HEAP_SAMPLE_INTERVAL || 256);
const session = new inspector.Session();
session.connect();
let state = 0;
process.on('SIGUSR2', () => {
  if (state === 0) {
    state = 1;
    session.post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else if (state === 1) {
    state = 2;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      // Written aside and renamed, so the benchmark never reads half a file.
      fs.writeFileSync(`${out}.part`, JSON.stringify(err ? { error: String(err) } : { head: result.profile.head }));
      fs.renameSync(`${out}.part`, out);
    });
  }
});
