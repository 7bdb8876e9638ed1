// Context continuity through request bodies: the fixture apps read their body the classic ways
// ('data'/'end', 'readable', stream.pipeline, stream.finished, for await), work after the response
// ('finish', 'close'), in a timer, chain client calls on one kept-alive socket, read an undici.request
// body (5, 6, 7) by 'data'/'end' on one pooled connection; then they call a
// downstream service. Three concurrent requests per scenario, each body in two chunks some ms apart
// (so 'end' really fires on a later tick, from the connection's socket). Every downstream call must
// carry its own request's trace id and the client span as parent, the client span a child of the
// request's server span.
import t from 'tap';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Collector, type ReceivedSpan } from '../../helpers/collector.js';
import { fixturePath as httpFixturePath, send, startApp } from '../../helpers/fixture-app.js';
import { KIND, newTraceId, spansOf } from '../../helpers/traces.js';
import { sendInTwoChunks } from './two-chunks.js';

const PARENT = '00f067aa0ba902b7';
const TRACESTATE = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';
const fixture = (file: string) => httpFixturePath('continuity', file);
const CA = fs.readFileSync(httpFixturePath('http', 'tls-cert.pem'));

/** Scenarios whose follow-up call is answered back to the client, and those whose call comes after the answer. */
const ANSWERED = ['data-end', 'readable', 'pipeline', 'finished', 'for-await', 'timer'] as const;
const AFTER_RESPONSE = ['finish', 'close'] as const;
const OVER_TLS = ['data-end', 'readable', 'pipeline'] as const;

interface Seen {
  traceparent: string | null;
  tracestate: string | null;
}

interface Sent {
  label: string;
  tag: string;
  traceId: string;
  status: number;
  /** The downstream calls the scenario makes, by their tags. */
  tags: string[];
}

function one(spans: ReceivedSpan[], pick: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan | undefined {
  const found = spans.filter(pick);
  return found.length === 1 ? found[0] : undefined;
}

// The apps load `undici` by its real name (6.x at the root); the undici<major> folders hold symlinks to
// the same app and to that major as `node_modules/undici`, run with the symlink flags, so the agent
// sees the module under the name users load it by.
const RUNS = [
  { app: 'app.cjs', all: true }, { app: 'app.mjs', all: true },
  { app: 'undici5/app.cjs', all: false }, { app: 'undici7/app.mjs', all: false },
];

for (const { app, all } of RUNS) {
  t.test(`${app}: a request's trace survives its body events, pipelines and later work`, async (t) => {
    const collector = await Collector.start();
    t.teardown(() => collector.close());
    const running = await startApp(fixture(app), {
      env: {
        TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '20', TRACING_SERVICE_NAME: 'front',
        ...(all ? {} : { NODE_OPTIONS: '--preserve-symlinks --preserve-symlinks-main' }),
      },
    });
    const { front, frontTls, down } = running.ports as Record<string, number>;

    const sent: Sent[] = [];
    /** Three concurrent requests of one scenario, each its own trace. */
    const drive = async (proto: 'http' | 'https', scenario: string, suffixes: string[] = ['']): Promise<void> => {
      await Promise.all([0, 1, 2].map(async (i) => {
        const traceId = newTraceId();
        const tag = `${proto}-${scenario}-${i}`;
        const reply = await sendInTwoChunks({
          port: proto === 'https' ? frontTls : front, tls: proto === 'https' ? CA : undefined,
          path: `/s/${scenario}?tag=${tag}`,
          headers: { traceparent: `00-${traceId}-${PARENT}-01`, tracestate: TRACESTATE },
          chunks: [`{"request":${i},`, `"part":"two"}`], gapMs: 25,
        });
        sent.push({ label: `${proto} ${scenario} #${i}`, tag, traceId, status: reply.status, tags: suffixes.map((x) => tag + x) });
      }));
    };
    if (all) {
      for (const scenario of ANSWERED) await drive('http', scenario);
      for (const scenario of AFTER_RESPONSE) await drive('http', scenario);
      for (const scenario of OVER_TLS) await drive('https', scenario);
      await drive('http', 'client-chain', ['-a', '-b']);
    }
    // undici.request on one pooled connection, then an http call from the body's 'end'.
    await drive('http', 'undici', ['-u', '']);

    // The after-response calls are made once the answer is out: give them a moment to land.
    let seen: Record<string, Seen> = {};
    for (let attempt = 0; attempt < 50; attempt++) {
      seen = JSON.parse((await send(down, { path: '/seen' })).body) as Record<string, Seen>;
      if (sent.every((s) => s.tags.every((tag) => seen[tag] !== undefined))) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    t.equal((await running.stop()).code, 0, 'the app ends normally');
    t.notMatch(running.stderr, /warn|error/i, 'the agent logged nothing');
    const spans = collector.spans;

    for (const s of sent) {
      t.test(s.label, async (t) => {
        t.equal(s.status, 200, 'answered');
        const trace = spansOf(spans, s.traceId);
        const server = one(trace, (x) => x.kind === KIND.server && x.parentSpanId === PARENT, 'front server span');
        t.ok(server, 'one front server span, child of the caller');
        const tags = s.tags;
        for (const tag of tags) {
          const got = seen[tag];
          t.ok(got, `${tag}: the downstream call was made`);
          const parent = got?.traceparent?.split('-')[2];
          t.equal(got?.traceparent?.split('-')[1], s.traceId, `${tag}: the downstream call carries this request's trace id`);
          const client = one(trace, (x) => x.kind === KIND.client && x.spanId === parent, 'client span');
          t.ok(client, `${tag}: its parent is a client span of this trace`);
          t.equal(client?.parentSpanId, server?.spanId, `${tag}: the client span is a child of the request's server span`);
          t.equal(got?.tracestate, TRACESTATE, `${tag}: tracestate passed on`);
        }
        t.equal(trace.filter((x) => x.kind === KIND.client).length, tags.length, 'no other client span in this trace');
      });
    }
    t.test('nothing leaked into a trace of its own', async (t) => {
      const ours = new Set(sent.map((s) => s.traceId));
      const stray = spans.filter((x) => x.kind === KIND.client && !ours.has(x.traceId));
      t.same(stray.map((x) => x.attributes['http.url']), [], 'every client span belongs to one of the requests');
    });
  });
}

t.test('EventEmitter methods on a traced request and response behave exactly as without the agent', async (t) => {
  const run = async (agent: boolean): Promise<unknown> => {
    const running = await startApp(fixture('app.cjs'), { agent, env: { TRACING_EXPORTER: 'none' } });
    try {
      const reply = await send(running.ports.front!, { path: '/emitter', headers: { traceparent: `00-${newTraceId()}-${PARENT}-01` } });
      t.equal(reply.status, 200, `answered (agent: ${agent})`);
      return JSON.parse(reply.body);
    } finally {
      await running.stop();
    }
  };
  const without = await run(false);
  const withAgent = await run(true);
  t.same(withAgent, without, 'identical: listener identity, counts, order, once, prepend, rawListeners, off with the original');
  // The comparison is only worth something if the log shows the methods at work.
  const log = without as unknown[];
  const entry = (label: string, key: string) => log.find((e) => typeof e === 'object' && e !== null && (e as { label?: string }).label === label && key in e);
  for (const label of ['req', 'res']) {
    t.match(entry(label, 'afterAdd'), {
      // Node's own once-wrappers in rawListeners (their name differs between Node lines).
      afterAdd: { count: 4, listeners: ['d', 'c', 'a', 'b'], rawNames: [/^(?!d$)/, 'c', 'a', /^(?!b$)/] },
      rawIsA: true, onceListenerIsOriginal: [true, false, false, true],
    }, `${label}: prepend, once and on in order, once listeners wrapped by Node itself`);
    t.match(entry(label, 'afterFirstEmit'), { afterFirstEmit: { count: 2, listeners: ['c', 'a'] } }, `${label}: once listeners gone after one emit`);
    t.match(entry(label, 'afterOff'), { off: true, afterOff: { count: 1, listeners: ['c'] } }, `${label}: off with the original function`);
    t.match(entry(label, 'twiceAddedOnceRemoved'), { twiceAddedOnceRemoved: { count: 2, listeners: ['c', 'a'] } }, `${label}: one of two copies removed`);
    t.match(entry(label, 'onceRemovedByOriginal'), { onceRemovedByOriginal: { count: 2, listeners: ['c', 'a'] } }, `${label}: a once listener removed by its original`);
    const calls = log.filter((e): e is string => typeof e === 'string' && e.startsWith(`${label} `));
    t.same(calls, [`${label} d 1`, `${label} c 1`, `${label} a 1`, `${label} b 1`, `${label} c 2`, `${label} a 2`, `${label} c 3`, `${label} a 3`], `${label}: listeners called in order`);
  }
});

t.test('W3C Trace Context suite contract: a service that reads its JSON body on \'end\' continues every valid traceparent', async (t) => {
  const collector = await Collector.start();
  t.teardown(() => collector.close());
  // The harness: receives the service's calls, as the W3C test suite's harness does.
  const received = new Map<string, { traceparent: string | string[] | undefined; tracestate: string | string[] | undefined; body: string }>();
  const harness = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      received.set(req.url!, { traceparent: req.headers.traceparent, tracestate: req.headers.tracestate, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => harness.listen(0, '127.0.0.1', resolve));
  t.teardown(() => harness.close());
  const harnessUrl = `http://127.0.0.1:${(harness.address() as { port: number }).port}`;
  const running = await startApp(fixture('app.mjs'), {
    env: { TRACING_EXPORTER: 'otlp', TRACING_ENDPOINT: collector.otlpUrl, TRACING_BATCH_DELAY_MS: '20', TRACING_SERVICE_NAME: 'w3c-service' },
  });
  const T = '12345678901234567890123456789012';
  const P = '1234567890123456';
  // [name, headers, expected: the trace continues (trace id kept) and the tracestate passed on, or a new trace]
  const members32 = Array.from({ length: 32 }, (_, i) => `k${i}=v${i}`).join(',');
  const cases: [string, Record<string, string | string[]>, { continues: boolean; tracestate?: string | null }][] = [
    ['sampled', { traceparent: `00-${T}-${P}-01` }, { continues: true }],
    ['not sampled', { traceparent: `00-${T}-${P}-00` }, { continues: true }],
    ['random flag (level 2)', { traceparent: `00-${T}-${P}-03` }, { continues: true }],
    ['unknown flags', { traceparent: `00-${T}-${P}-09` }, { continues: true }],
    ['future version, extra field', { traceparent: `cc-${T}-${P}-01-what-the-future-will-be-like` }, { continues: true }],
    ['future version', { traceparent: `cc-${T}-${P}-01` }, { continues: true }],
    ['surrounding whitespace', { traceparent: ` \t00-${T}-${P}-01 \t` }, { continues: true }],
    ['tracestate passed on', { traceparent: `00-${T}-${P}-01`, tracestate: 'foo=1,bar=2' }, { continues: true, tracestate: 'foo=1,bar=2' }],
    ['tracestate in two headers', { traceparent: `00-${T}-${P}-01`, tracestate: ['foo=1', 'bar=2'] }, { continues: true, tracestate: 'foo=1,bar=2' }],
    ['tracestate duplicated key', { traceparent: `00-${T}-${P}-01`, tracestate: 'foo=1,foo=2' }, { continues: true, tracestate: 'foo=1' }],
    ['tracestate duplicated key across headers', { traceparent: `00-${T}-${P}-01`, tracestate: ['foo=1', 'foo=1'] }, { continues: true, tracestate: 'foo=1' }],
    ['tracestate 32 members', { traceparent: `00-${T}-${P}-01`, tracestate: members32 }, { continues: true, tracestate: members32 }],
    ['tracestate 33 members dropped', { traceparent: `00-${T}-${P}-01`, tracestate: `${members32},k32=v32` }, { continues: true, tracestate: null }],
    ['tracestate empty members and whitespace', { traceparent: `00-${T}-${P}-01`, tracestate: 'foo=1 , ,\tbar=2' }, { continues: true, tracestate: 'foo=1,bar=2' }],
    ['version ff', { traceparent: `ff-${T}-${P}-01` }, { continues: false }],
    ['version 00 with extra field', { traceparent: `00-${T}-${P}-01-extra` }, { continues: false }],
    ['upper-case hex', { traceparent: `00-${T.toUpperCase().replace(/1/g, 'A')}-${P}-01` }, { continues: false }],
    ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${P}-01` }, { continues: false }],
    ['all-zero parent id', { traceparent: `00-${T}-${'0'.repeat(16)}-01` }, { continues: false }],
    ['short trace id', { traceparent: `00-${T.slice(1)}-${P}-01` }, { continues: false }],
    ['illegal characters', { traceparent: `00-${T.slice(0, 31)}.-${P}-01` }, { continues: false }],
    ['two traceparent headers', { traceparent: [`00-${T}-${P}-01`, `00-${T}-${P}-01`] }, { continues: false }],
  ];
  // Every case at once, each body in two chunks: concurrent traces, 'end' on a later tick.
  await Promise.all(cases.map(async ([name], i) => {
    const args = [{ url: `${harnessUrl}/case/${i}`, arguments: [] }];
    const json = JSON.stringify(args);
    const reply = await sendInTwoChunks({ port: running.ports.front!, path: '/w3c', headers: { 'content-type': 'application/json', ...cases[i]![1] }, chunks: [json.slice(0, 10), json.slice(10)], gapMs: 20 });
    t.equal(reply.status, 200, `${name}: the service answered`);
  }));
  t.equal((await running.stop()).code, 0);
  t.notMatch(running.stderr, /warn|error/i, 'the agent logged nothing');
  const spans = collector.spans;
  cases.forEach(([name, headers, expected], i) => {
    const got = received.get(`/case/${i}`);
    t.ok(got, `${name}: the harness was called`);
    const tp = typeof got?.traceparent === 'string' ? got.traceparent : '';
    t.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/, `${name}: a valid version 00 traceparent was sent`);
    const [, traceId, parentId] = tp.split('-');
    if (expected.continues) {
      t.equal(traceId, T, `${name}: the trace continues`);
      t.not(parentId, P, `${name}: with a new parent id`);
      const incoming = ([] as string[]).concat(headers.traceparent!)[0]!.trim();
      t.equal(Number.parseInt(tp.slice(53, 55), 16) & 1, Number.parseInt(incoming.slice(53, 55), 16) & 1, `${name}: the sampled flag is kept`);
      if (expected.tracestate !== undefined) t.equal(got?.tracestate ?? null, expected.tracestate, `${name}: tracestate`);
      const sampled = (Number.parseInt(incoming.slice(53, 55), 16) & 1) === 1;
      if (sampled) {
        const client = spans.find((s) => s.spanId === parentId);
        const server = spans.find((s) => s.spanId === client?.parentSpanId);
        t.equal(server?.parentSpanId, P, `${name}: the outgoing call is a child of the server span, which is a child of the caller`);
      }
    } else {
      t.not(traceId, T, `${name}: a new trace`);
      t.equal(got?.tracestate, undefined, `${name}: no tracestate from an invalid parent`);
    }
  });
});
