// Drops at exit are counted without a warning, by the flag the exit path sets (SendResult.atExit),
// not by what the reason says; drops while the process runs warn at most once per interval.
import t, { type Test } from 'tap';
import { DropReporter } from '../../../src/export/drop-reporter.js';
import { Retrier } from '../../../src/export/retry.js';
import { setLogLevel } from '../../../src/util/log.js';

function captureStderr(t: Test): string[] {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  t.teardown(() => {
    process.stderr.write = original;
  });
  return lines;
}

t.test('a drop at exit is counted and not warned; the next drop while running still warns at once', async (t) => {
  setLogLevel('warn');
  const lines = captureStderr(t);
  let now = 0;
  const drops = new DropReporter('otlp exporter (http://127.0.0.1:4318/v1/traces)', 60_000, () => now);
  drops.add(3, 'at exit: connect ECONNREFUSED 127.0.0.1:4318 (1 try)', true);
  t.equal(drops.dropped, 3, 'counted');
  t.same(lines, [], 'no warning');
  now = 10;
  drops.add(2, 'connect ECONNREFUSED 127.0.0.1:4318 (5 tries)');
  t.equal(drops.dropped, 5);
  t.equal(lines.length, 1, 'one warning');
  t.match(lines[0], /warn: otlp exporter .*: dropped 5 span\(s\) \(5 since start\): 3 at exit: connect ECONNREFUSED .*; 2 connect ECONNREFUSED/, 'which also reports the exit drops counted before it');
});

t.test('the reason text does not decide: a running drop whose reason begins like an exit one still warns', async (t) => {
  setLogLevel('warn');
  const lines = captureStderr(t);
  const drops = new DropReporter('console exporter');
  drops.add(1, 'at exit: a phrase an exporter happened to use');
  t.equal(lines.length, 1, 'warned');
});

t.test('the Retrier marks what it gives up on at exit, and only that', async (t) => {
  const refused = { ok: false, retryable: true, unreachable: true, status: 0, reason: 'connect ECONNREFUSED 127.0.0.1:4318' };
  const retrier = new Retrier({ maxAttempts: 1, initialBackoffMs: 1 }, '127.0.0.1:4318');
  const running = await retrier.run(async () => refused);
  t.equal(running.ok, false);
  t.notOk(running.atExit, 'a failure while running is not an exit drop');
  retrier.beginExit(Date.now() + 1000);
  const [first, second] = await Promise.all([retrier.run(async () => refused), retrier.run(async () => refused)]);
  t.equal(first!.atExit, true, 'the one try at exit');
  t.equal(second!.atExit, true, 'the payload not tried after it');
});
