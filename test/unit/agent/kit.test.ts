import t from 'tap';
import dc from 'node:diagnostics_channel';
import { splitHostPort } from '../../../src/agent/instrumentation.js';
import { buildAgentSettings, InstrumentationRun } from '../../../src/agent/kit.js';
import { defaultConfig } from '../../../src/config/load.js';
import { memoryTracer } from '../../helpers/instrumentation-context.js';
import { AlwaysOffSampler } from '../../../src/sampling/sampler.js';

// The `ctx` kit as the loader builds it (InstrumentationRun), checked on its own.
function runWith(config: Partial<ReturnType<typeof defaultConfig>> = {}, onFailure?: (m: string) => void) {
  const { tracer, exporter } = memoryTracer();
  const run = new InstrumentationRun('kit-test', {}, { tracer, settings: buildAgentSettings({ ...defaultConfig(), ...config }) }, {}, onFailure);
  return { run, ctx: run.context('1.0.0'), tracer, exporter };
}

t.test('startClientSpan: kind, component, peer host and port, peer.service by host:port then host', async (t) => {
  const { ctx, tracer } = runWith({ peerServices: { 'db.local:6380': 'cache', 'db.local': 'main-db' } });
  const parent = tracer.startSpan('request');
  const scope = tracer.scopeManager.activate(parent, false);
  const a = ctx.startClientSpan('GET', { component: 'redis', hostname: 'db.local', port: 6380 });
  const b = ctx.startClientSpan('GET', { component: 'redis', hostname: 'db.local', port: 6379 });
  const c = ctx.startClientSpan('GET', { component: 'redis', hostname: 'other', port: 1 });
  const root = ctx.startClientSpan('GET', { component: 'redis' }, null);
  scope.close();
  t.same({ ...a.tags }, { 'span.kind': 'client', component: 'redis', 'peer.hostname': 'db.local', 'peer.port': 6380, 'peer.service': 'cache' });
  t.equal(b.tags['peer.service'], 'main-db');
  t.equal(c.tags['peer.service'], undefined, 'none configured for that host');
  t.equal(a.parentSpanId, parent.context().spanId, 'child of the active span');
  t.equal(root.parentSpanId, '', 'parent null: a root span');
});

t.test('startClientSpan: an instrumentation\'s own peerServices section overrides TRACING_PEER_SERVICES; a remote parent', async (t) => {
  const { tracer } = memoryTracer();
  const settings = buildAgentSettings({ ...defaultConfig(), peerServices: { 'db.local': 'agent-wide' } });
  const own = new InstrumentationRun('own', {}, { tracer, settings }, { peerServices: { 'db.local': 'from-section' } }).context('1.0.0');
  const plain = new InstrumentationRun('plain', {}, { tracer, settings }, {}).context('1.0.0');
  t.equal(own.startClientSpan('GET', { component: 'x', hostname: 'db.local', port: 1 }).tags['peer.service'], 'from-section');
  t.equal(own.peerServiceOf('db.local'), 'from-section', 'peerServiceOf looks it up the same way');
  t.equal(plain.startClientSpan('GET', { component: 'x', hostname: 'db.local', port: 1 }).tags['peer.service'], 'agent-wide');
  const remote = tracer.startSpan('elsewhere').context();
  const child = plain.startClientSpan('GET', { component: 'x' }, remote);
  t.equal(child.parentSpanId, remote.spanId, 'a SpanContext parent (a redirect hop\'s) is the parent');
  t.equal(child.context().traceId, remote.traceId);
});

t.test('startClientSpan: a raw authority or origin is split into the same peer tags', async (t) => {
  const { ctx } = runWith({ peerServices: { '::1:9000': 'v6-service' } });
  const tagsOf = (peer: Parameters<typeof ctx.startClientSpan>[1]) => {
    const { 'span.kind': _kind, component: _component, ...rest } = ctx.startClientSpan('GET', peer).tags;
    return rest;
  };
  t.same(tagsOf({ component: 'http', authority: 'example.com:8080', defaultPort: 80 }), { 'peer.hostname': 'example.com', 'peer.port': 8080 });
  t.same(tagsOf({ component: 'http', authority: 'example.com', defaultPort: 443 }), { 'peer.hostname': 'example.com', 'peer.port': 443 });
  t.same(tagsOf({ component: 'http', authority: '[::1]:9000', defaultPort: 80 }), { 'peer.hostname': '::1', 'peer.port': 9000, 'peer.service': 'v6-service' });
  t.same(tagsOf({ component: 'http', authority: '', defaultPort: 80 }), { 'peer.port': 80 }, 'no host: no peer.hostname');
  t.same(tagsOf({ component: 'fetch', origin: 'https://[::1]' }), { 'peer.hostname': '::1', 'peer.port': 443 });
  t.same(tagsOf({ component: 'fetch', origin: 'http://h.local:81/x' }), { 'peer.hostname': 'h.local', 'peer.port': 81 });
  t.same(tagsOf({ component: 'fetch', origin: 'not an origin' }), {}, 'not an origin: no peer tags');
  t.same(tagsOf({ component: 'x', hostname: 'given', port: 1, authority: 'other:2' }), { 'peer.hostname': 'given', 'peer.port': 1 }, 'hostname given: the authority is not read');
});

t.test('startClientSpan: an unsampled call never reads or parses its peer', async (t) => {
  const { tracer } = memoryTracer({ sampler: new AlwaysOffSampler() });
  const ctx = new InstrumentationRun('unsampled', {}, { tracer, settings: buildAgentSettings(defaultConfig()) }, {}).context('1.0.0');
  let reads = 0;
  const peer = { component: 'http', defaultPort: 80, get authority() { reads++; return 'example.com:8080'; } };
  const span = ctx.startClientSpan('GET', peer);
  t.equal(span.isRecording(), false);
  t.equal(reads, 0, 'the authority was never read');
});

t.test('splitHostPort: names, IPv6, default and malformed ports', async (t) => {
  t.same(splitHostPort('example.com', 443), { hostname: 'example.com', port: 443 });
  t.same(splitHostPort('example.com:8080', 80), { hostname: 'example.com', port: 8080 });
  t.same(splitHostPort('[::1]:9000', 80), { hostname: '::1', port: 9000 });
  t.same(splitHostPort('[::1]', 80), { hostname: '::1', port: 80 });
  t.same(splitHostPort('host:nope', 80), { hostname: 'host', port: 80 });
});

t.test("a subscriber's throw never reaches the publisher: logged, reported once, everything undone", async (t) => {
  const failures: string[] = [];
  const { run, ctx } = runWith({}, (message) => {
    failures.push(message);
    run.undo();
  });
  const channel = dc.channel('test:kit-subscriber');
  const target = { greet: () => 'hello' };
  const original = target.greet;
  ctx.wrap(target, 'greet', (orig) => function greetWithTrace() {
    return `${orig()}!`;
  });
  t.equal(target.greet(), 'hello!');
  let calls = 0;
  ctx.subscribe(channel.name as string, () => {
    calls++;
    throw new Error('subscriber bug');
  });
  t.doesNotThrow(() => channel.publish({}), 'the publisher (the library, the app) sees nothing');
  t.equal(calls, 1);
  t.equal(failures.length, 1);
  t.match(failures[0], /kit-test.*test:kit-subscriber.*subscriber bug/);
  t.notOk(channel.hasSubscribers, 'unsubscribed');
  t.equal(target.greet, original, 'its wraps undone too');
  channel.publish({});
  t.equal(calls, 1, 'never called again');
});

t.test('options are read once by the instrumentation\'s reader, with the agent-wide settings', async (t) => {
  const { tracer } = memoryTracer();
  let reads = 0;
  const code = {
    options: (raw: Readonly<Record<string, unknown>>, settings: ReturnType<typeof buildAgentSettings>) => {
      reads++;
      return { limit: typeof raw.limit === 'number' ? raw.limit : 10, statement: settings.dbStatement };
    },
  };
  const run = new InstrumentationRun('typed', code, { tracer, settings: buildAgentSettings({ ...defaultConfig(), dbStatement: 'off' }) }, { limit: 'x' });
  t.same(run.context('1').options, { limit: 10, statement: 'off' }, 'a malformed value falls back to its default');
  run.context('2');
  t.equal(reads, 1, 'read once, not per patch');
});
