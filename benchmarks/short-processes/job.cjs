// One short process of the batch: what a test file, a CI step or a cron job does in miniature —
// serve one request, make it, close, end. Reports on fd 3 its CPU time (all threads, start-up
// included), the part of it spent before its first line (Node's and the agent's start-up), and how
// long its exit took (from its last act to the 'exit' event).
'use strict';
const startCpu = process.cpuUsage();
const fs = require('node:fs');
const http = require('node:http');
const server = http.createServer((_req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/job' }, (res) => {
    res.resume();
    res.on('end', () => server.close(() => {
      const doneAt = performance.now();
      process.on('exit', () => {
        const cpu = process.cpuUsage();
        try {
          fs.writeSync(3, JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, startCpuMs: (startCpu.user + startCpu.system) / 1000, exitMs: performance.now() - doneAt }) + '\n');
        } catch {
          // Run by hand without fd 3: nothing to report to.
        }
      });
    }));
  });
});
