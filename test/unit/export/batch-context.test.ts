import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// The batch processor's timer, immediates and sends run outside the request whose span opened or filled
// a batch: no span active in their callbacks, and that request's scope is not kept alive by the timer,
// which lives as long as the processor. Each Node line keeps a timer's context its own way (Node 20:
// the store copied onto the resource; Node 24: the frame), so the check runs in a child of each.
const src = path.join(__dirname, '..', '..', '..', 'src');
const root = path.join(__dirname, '..', '..', '..', '..');
const node24 = path.join(root, 'test', 'integration', 'loader', 'node-lines', 'node_modules', 'node24', 'bin', 'node');

const child = `
const src = process.argv[1];
const { Tracer } = require(src + '/index.js');
const { BatchSpanProcessor } = require(src + '/export/batch-processor.js');
const { contextStorage } = require(src + '/scope/async-local.js');
const seen = [];
let tracer;
const where = (what) => {
  const active = tracer.activeSpan();
  seen.push(what + ':' + (active === null ? 'none' : active.operationName) + ':' + (contextStorage.getStore() === undefined ? 'empty' : 'store'));
};
const exporter = {
  // Only the count is kept: the spans must not be what holds the request.
  export(spans) {
    where('send' + spans.length);
    return new Promise((resolve) => setImmediate(() => { where('answer' + spans.length); resolve(); }));
  },
  shutdown: () => Promise.resolve(),
};
const processor = new BatchSpanProcessor(exporter, { maxExportBatchSize: 2, scheduledDelayMs: 1000 });
tracer = new Tracer({ processor });
const refs = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  // The first request's first span opens a batch (the timer is made), its second fills it (an immediate).
  // Its scope (the store) is what the timer must not keep; its span, queued for the timer, is kept by the queue.
  await tracer.startActiveSpan('request-1', async () => {
    refs.push(new WeakRef(contextStorage.getStore()));
    tracer.startSpan('a').finish();
    tracer.startSpan('b').finish();
    await sleep(1);
  });
  // While the timer waits for request-1's span (armed inside request-1): a WeakRef read keeps its target
  // until the end of the job, so collect and read on different turns.
  let collected = [false];
  for (let i = 0; i < 10 && !collected.every(Boolean); i++) {
    await sleep(10);
    global.gc();
    await sleep(10);
    collected = refs.map((r) => r.deref() === undefined);
  }
  const pending = processor.timerArmed;
  for (let i = 0; i < 100 && seen.length < 4; i++) await sleep(50);
  console.log(JSON.stringify({ seen, collected, pending, timerKept: processor.timer !== null }));
})();
`;

function run(node: string): { seen: string[]; collected: boolean[]; pending: boolean; timerKept: boolean } {
  return JSON.parse(execFileSync(node, ['--expose-gc', '-e', child, src], { encoding: 'utf8' })) as ReturnType<typeof run>;
}

for (const [line, node] of [[`this Node (${process.version})`, process.execPath], ['Node 24', node24]] as const) {
  t.test(`${line}: the batch's timer, immediate and send run in no request's scope and keep none alive`, { skip: existsSync(node) ? false : `${node} not installed` }, async (t) => {
    const result = run(node);
    // a and b fill a batch (an immediate sends it); request-1's span, finished after, waits for the timer.
    t.same(result.seen, ['send2:none:empty', 'answer2:none:empty', 'send1:none:empty', 'answer1:none:empty'],
      'the full batch and the timer\'s batch are sent, and answered, with no span active and an empty store');
    t.ok(result.pending && result.timerKept, 'the collection was checked while the timer made in request-1 was pending');
    t.same(result.collected, [true], "request-1's scope is collected while the timer waits");
  });
}
