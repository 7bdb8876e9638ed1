// Open-loop load at a fixed offered rate: requests are sent on schedule whether or not earlier ones
// have been answered (up to a cap of outstanding requests), over keep-alive connections. Runs in its
// own process, so its CPU is never the server's. Prints one JSON summary line.
// argv: url rate durationSec connections
import http from 'node:http';

const [url, rateArg, durationArg, connectionsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const durationMs = Number(durationArg) * 1000;
const connections = Number(connectionsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const target = new URL(url);
const MAX_OUTSTANDING = connections * 16;

let sent = 0;
let answered = 0;
let errors = 0;
let outstanding = 0;
let skipped = 0;
const latencies = [];

function fire() {
  outstanding++;
  sent++;
  const t0 = performance.now();
  const req = http.get({ host: target.hostname, port: target.port, path: target.pathname, agent }, (res) => {
    res.resume();
    res.on('end', () => {
      outstanding--;
      answered++;
      latencies.push(performance.now() - t0);
    });
  });
  req.on('error', () => {
    outstanding--;
    errors++;
  });
}

const started = performance.now();
const tick = setInterval(() => {
  const elapsed = performance.now() - started;
  const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.floor((durationMs * rate) / 1000));
  while (sent + skipped < due) {
    if (outstanding >= MAX_OUTSTANDING) skipped++;
    else fire();
  }
  if (elapsed >= durationMs) {
    clearInterval(tick);
    const wait = setInterval(() => {
      if (outstanding > 0 && performance.now() - started < durationMs + 5000) return;
      clearInterval(wait);
      latencies.sort((a, b) => a - b);
      const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
      process.stdout.write(JSON.stringify({ sent, answered, errors, skipped, p50: q(0.5), p99: q(0.99), ms: performance.now() - started }) + '\n');
      agent.destroy();
    }, 10);
  }
}, 1);
