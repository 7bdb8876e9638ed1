// A subscriber that declares its channels (RegistryEntry.channels: undici, fetch, node-redis) is not
// loaded at start: the first message on one of its channels loads it, starts it and hands it that message.
import dc from 'node:diagnostics_channel';
import t from 'tap';
import type { RegistryEntry } from '../../../src/agent/instrumentation.js';
import { InstrumentationRegistry } from '../../../src/agent/registry.js';
import { defaultConfig } from '../../../src/config/load.js';
import { Tracer } from '../../../src/tracer.js';

function subscriberEntry(name: string, channels: string[], seen: unknown[], counter: { loads: number; starts: number }, start?: () => void): RegistryEntry {
  return {
    name,
    modules: [{ name: 'fetch', versions: '*', reportOnly: true }],
    kind: 'subscribe',
    channels,
    load: () => {
      counter.loads++;
      return {
        start(ctx) {
          counter.starts++;
          start?.();
          for (const channel of channels) ctx.subscribe(channel, (message) => seen.push([channel, message]));
        },
      };
    },
  };
}

function activate(entries: RegistryEntry[]): InstrumentationRegistry {
  const registry = new InstrumentationRegistry();
  for (const e of entries) void registry.add(e);
  registry.activate({ ...defaultConfig(), logLevel: 'none' }, new Tracer());
  return registry;
}

t.test('nothing is loaded at start; the first message loads it once and is delivered, and so are the next ones', async (t) => {
  const seen: unknown[] = [];
  const counter = { loads: 0, starts: 0 };
  const a = dc.channel('test:first-message:a');
  const b = dc.channel('test:first-message:b');
  const registry = activate([subscriberEntry('lazy-sub', [a.name as string, b.name as string], seen, counter)]);
  t.teardown(() => registry.stopAll());
  t.equal(counter.loads, 0, 'not loaded at start');
  t.equal(a.hasSubscribers && b.hasSubscribers, true, 'yet its channels have a subscriber (libraries publish only then)');
  b.publish({ n: 1 });
  t.same(counter, { loads: 1, starts: 1 }, 'loaded and started by the first message');
  t.same(seen, [['test:first-message:b', { n: 1 }]], 'which it received');
  a.publish({ n: 2 });
  b.publish({ n: 3 });
  t.same(seen, [['test:first-message:b', { n: 1 }], ['test:first-message:a', { n: 2 }], ['test:first-message:b', { n: 3 }]], 'each later message once');
  t.same(counter, { loads: 1, starts: 1 }, 'never loaded again');
});

t.test('stopped before any message: never loaded, channels left without our subscribers', async (t) => {
  const counter = { loads: 0, starts: 0 };
  const c = dc.channel('test:first-message:c');
  const registry = activate([subscriberEntry('lazy-stop', [c.name as string], [], counter)]);
  t.equal(c.hasSubscribers, true);
  registry.stopAll();
  t.equal(c.hasSubscribers, false, 'unsubscribed');
  c.publish({});
  t.equal(counter.loads, 0, 'never loaded');
});

t.test('a start that throws on the first message disables it with one warning and never reaches the app', async (t) => {
  const counter = { loads: 0, starts: 0 };
  const d = dc.channel('test:first-message:d');
  const registry = activate([subscriberEntry('lazy-throw', [d.name as string], [], counter, () => {
    throw new Error('boom');
  })]);
  t.teardown(() => registry.stopAll());
  t.doesNotThrow(() => d.publish({}), 'the publisher is unaffected');
  t.equal(counter.starts, 1);
  t.equal(d.hasSubscribers, false, 'nothing of it stays subscribed');
  d.publish({});
  t.same(counter, { loads: 1, starts: 1 }, 'and it is not tried again');
});
