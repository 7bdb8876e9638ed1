// Preloaded (--require) into the app by ./compile-counts.mjs: SIGUSR2 ends the process normally, so V8
// prints its compilers' statistics (--turbo-stats, --maglev-stats) at the isolate's teardown.
'use strict';
process.on('SIGUSR2', () => process.exit(0));
