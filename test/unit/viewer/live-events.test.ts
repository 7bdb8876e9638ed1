import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { LiveEvents } from '../../../src/viewer/live-events.js';
import { TraceStore } from '../../../src/viewer/store.js';
import { SseClient } from '../../integration/viewer/viewer-client.js';
import { makeSpan } from './make-span.js';

async function setup(t: { teardown(fn: () => unknown): void }, coalesceMs: number) {
  const store = new TraceStore(100);
  const events = new LiveEvents(store, { coalesceMs, heartbeatMs: 60_000 });
  const server = http.createServer((req, res) => events.attach(req, res, {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    events.close();
    server.closeAllConnections();
    server.close();
  });
  return { store, events, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const until = async (ok: () => boolean, ms = 2000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return ok();
};

t.test('a burst of changes within the interval is one event naming every changed trace once', async (t) => {
  const { store, url } = await setup(t, 200);
  const sse = await SseClient.open(url);
  t.teardown(() => sse.close());
  await sse.waitFor('stats', 0);
  for (let i = 1; i <= 20; i++) store.add([makeSpan(1 + (i % 3), i)]);
  const update = await sse.waitFor('traces', 1);
  t.equal(update.traces.length, 3);
  t.equal(update.stats.spans, 20);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sse.events.filter((e) => e.event === 'traces').length, 1, 'nothing more without new spans');
  store.add([makeSpan(9, 99)]);
  const next = await sse.waitFor('traces', sse.events.length);
  t.same(next.traces.map((s: any) => s.spanCount), [1], 'the next event has only what changed since');
});

t.test('a client that disconnects is forgotten; with no clients, changes cost nothing', async (t) => {
  const { store, events, url } = await setup(t, 20);
  const a = await SseClient.open(url);
  const b = await SseClient.open(url);
  t.equal(events.clientCount, 2);
  a.close();
  t.ok(await until(() => events.clientCount === 1), 'one left after a disconnect');
  b.close();
  t.ok(await until(() => events.clientCount === 0), 'none left');
  store.add([makeSpan(1, 1)]);
  t.equal((events as unknown as { flushTimer: unknown }).flushTimer, null, 'no timer armed without listeners');
});

t.test('a client that stopped reading is dropped once its backlog is large, not buffered for ever', async (t) => {
  const store = new TraceStore(100);
  const events = new LiveEvents(store, { coalesceMs: 10, heartbeatMs: 60_000 });
  t.teardown(() => events.close());
  const { EventEmitter } = await import('node:events');
  const frames: string[] = [];
  const stuck = Object.assign(new EventEmitter(), {
    writableLength: 0,
    destroyed: false,
    writableEnded: false,
    writeHead: () => stuck,
    write: (frame: string) => frames.push(frame),
    end: () => {},
    destroy: () => {
      stuck.destroyed = true;
    },
  });
  events.attach(new EventEmitter() as any, stuck as any, {});
  store.add([makeSpan(1, 1)]);
  t.ok(await until(() => frames.some((f) => f.startsWith('event: traces'))), 'a reading client gets updates');
  stuck.writableLength = 5 * 1024 * 1024;
  store.add([makeSpan(1, 2)]);
  t.ok(await until(() => stuck.destroyed), 'dropped once 4 MiB are waiting');
  t.equal(events.clientCount, 0);
});
