import { DEFAULT_SENSITIVE_PARAMS } from '../../../src/util/redact.js';
import t from 'tap';
import { Tracer } from '../../../src/tracer.js';
import dc from 'node:diagnostics_channel';
import type { Instrumentation, RegistryEntry } from '../../../src/agent/instrumentation.js';
import { InstrumentationRegistry, parseModuleKey } from '../../../src/agent/registry.js';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';

function lib() {
  return {
    greet(name: string): string {
      return `hello ${name}`;
    },
    other(): string {
      return 'other';
    },
  };
}

function greetInstrumentation(overrides: Partial<Instrumentation> = {}): Instrumentation & { patched: number } {
  const def = {
    name: 'greeter',
    modules: [{ name: 'lib', versions: '^1.0.0' }],
    patched: 0,
    patch(exports: ReturnType<typeof lib>, { wrap }: Parameters<Instrumentation['patch']>[1]) {
      def.patched++;
      wrap(exports, 'greet', (orig) => function greetWithTrace(this: unknown, name: string) {
        return `${orig.call(this, name)} (traced)`;
      });
    },
    ...overrides,
  };
  return def;
}

function entryOf(def: Instrumentation, counter = { loads: 0 }): RegistryEntry {
  return {
    name: def.name,
    modules: def.modules,
    kind: typeof def.start === 'function' ? 'patch+subscribe' : 'patch',
    load: () => {
      counter.loads++;
      return def;
    },
  };
}

function activeRegistry(entries: RegistryEntry[], config: Partial<Config> = {}): InstrumentationRegistry {
  const registry = new InstrumentationRegistry();
  for (const e of entries) void registry.add(e);
  registry.activate({ ...defaultConfig(), logLevel: 'none', ...config }, new Tracer());
  return registry;
}

const mod = (version: string) => ({ name: 'lib', subpath: '', version, builtin: false });

t.test('module keys name a package, a built-in or a file inside a package', async (t) => {
  t.same(parseModuleKey('express'), { name: 'express', subpath: '' });
  t.same(parseModuleKey('node:http'), { name: 'http', subpath: '' });
  t.same(parseModuleKey('express/lib/router/layer.js'), { name: 'express', subpath: 'lib/router/layer' });
  t.same(parseModuleKey('@hapi/hapi/lib/server.js'), { name: '@hapi/hapi', subpath: 'lib/server' });
  t.same(parseModuleKey('pkg/lib/index.js'), { name: 'pkg', subpath: 'lib' });
});

t.test('an instrumentation is loaded only when its module loads, and patches each instance once', async (t) => {
  const def = greetInstrumentation();
  const counter = { loads: 0 };
  const registry = activeRegistry([entryOf(def, counter)]);
  t.equal(counter.loads, 0, 'nothing loaded at start');
  t.ok(registry.watches('lib'));
  t.notOk(registry.watches('unrelated'));
  const a = lib();
  t.equal(registry.onLoad(mod('1.4.0'), a), a, 'patched in place');
  t.equal(registry.onLoad(mod('1.4.0'), a), a);
  t.equal(def.patched, 1, 'same instance: once');
  t.equal(a.greet('x'), 'hello x (traced)');
  const b = lib();
  registry.onLoad(mod('1.4.0'), b);
  t.equal(def.patched, 2, 'a second copy of the package is a second instance');
  t.equal(counter.loads, 1, 'loaded once');
});

t.test('a version outside the range is not patched', async (t) => {
  const def = greetInstrumentation();
  const registry = activeRegistry([entryOf(def)]);
  const a = lib();
  const original = a.greet;
  registry.onLoad(mod('2.0.0'), a);
  registry.onLoad(mod(''), a);
  t.equal(a.greet, original);
  t.equal(def.patched, 0);
});

t.test('configuration switches instrumentations off by name', async (t) => {
  for (const config of [
    { disabledInstrumentations: ['greeter'] },
    { enabledInstrumentations: ['something-else'] },
    { instrumentations: { greeter: false as const } },
  ]) {
    const def = greetInstrumentation();
    const registry = activeRegistry([entryOf(def)], config);
    const a = lib();
    const original = a.greet;
    registry.onLoad(mod('1.0.0'), a);
    t.equal(a.greet, original, JSON.stringify(config));
    t.notOk(registry.watches('lib'), 'its module is not even hooked');
  }
});

t.test('per-instrumentation options from the config file reach patch', async (t) => {
  let seen: unknown;
  const def = greetInstrumentation({ patch: (_e, ctx) => void (seen = { options: ctx.options, settings: ctx.settings }) });
  const registry = activeRegistry([entryOf(def)], { instrumentations: { greeter: { ignorePaths: ['/health'] } } });
  registry.onLoad(mod('1.0.0'), lib());
  const { options, settings } = seen as { options: unknown; settings: import('../../../src/agent/instrumentation.js').AgentSettings };
  t.same(options, { ignorePaths: ['/health'] }, 'the file options (no reader declared: as written)');
  t.same(
    { peerServices: settings.peerServices, sensitiveQueryParams: DEFAULT_SENSITIVE_PARAMS.filter((p) => settings.urlRedactor.isSensitive(p)), dbStatement: settings.dbStatement, dbRootSpans: settings.dbRootSpans },
    { peerServices: {}, sensitiveQueryParams: [...DEFAULT_SENSITIVE_PARAMS], dbStatement: 'sanitized', dbRootSpans: false },
    'with the agent-wide peerServices map, redaction list and database settings',
  );
});

t.test('a throwing patch is undone, disabled for good, and later modules are left alone', async (t) => {
  const def = greetInstrumentation({
    patch(exports: ReturnType<typeof lib>, { wrap }) {
      wrap(exports, 'greet', (orig) => function greetWithTrace(this: unknown, name: string) {
        return orig.call(this, name);
      });
      throw new Error('boom');
    },
  });
  const registry = activeRegistry([entryOf(def)]);
  const a = lib();
  const original = a.greet;
  t.doesNotThrow(() => registry.onLoad(mod('1.0.0'), a));
  t.equal(a.greet, original, 'the wrap it made before throwing is undone');
  const b = lib();
  const originalB = b.greet;
  registry.onLoad(mod('1.0.0'), b);
  t.equal(b.greet, originalB, 'disabled: the next instance is not touched');
});

t.test('an instrumentation that fails to load is disabled, the module untouched', async (t) => {
  const registry = activeRegistry([
    { name: 'broken', kind: 'patch', modules: [{ name: 'lib', versions: '*' }], load: () => { throw new Error('cannot load'); } },
    { name: 'empty', kind: 'patch', modules: [{ name: 'lib', versions: '*' }], load: () => ({}) as Instrumentation },
  ]);
  const a = lib();
  const original = a.greet;
  t.equal(registry.onLoad(mod('1.0.0'), a), a);
  t.equal(a.greet, original);
});

t.test('patch may return a replacement module', async (t) => {
  const replacement = lib();
  const registry = activeRegistry([entryOf(greetInstrumentation({ patch: () => replacement }))]);
  const a = lib();
  t.equal(registry.onLoad(mod('1.0.0'), a), replacement);
  t.equal(registry.onLoad(mod('1.0.0'), a), replacement, 'the same replacement for the same instance');
});

t.test('a diagnostics_channel subscriber starts with the agent and is stopped on failure of its patch', async (t) => {
  const events: string[] = [];
  const channel = dc.channel('test:registry-subscriber');
  const def = greetInstrumentation({
    start: (ctx) => {
      events.push('start');
      ctx.subscribe(channel.name as string, () => {});
    },
    patch: () => {
      throw new Error('boom');
    },
  });
  const registry = activeRegistry([entryOf(def)]);
  t.same(events, ['start'], 'started at activation, before any module loads');
  t.ok(channel.hasSubscribers);
  registry.onLoad(mod('1.0.0'), lib());
  if (!channel.hasSubscribers) events.push('stop');
  t.same(events, ['start', 'stop'], 'disabled means unsubscribed');
});

t.test('instrumentations added after activation are reported to the hooks', async (t) => {
  const registry = activeRegistry([]);
  const added: string[] = [];
  registry.onTargetsAdded((targets) => void added.push(...targets.map((x) => `${x.name}|${x.subpath}`)));
  await registry.add({
    name: 'late',
    kind: 'patch',
    modules: [{ name: 'late-pkg', versions: '*' }, { name: 'late-pkg', versions: '*', file: 'lib/x.js' }, { name: 'node:http', versions: '*' }],
    load: () => greetInstrumentation(),
  });
  t.same(added, ['late-pkg|', 'late-pkg|lib/x', 'http|']);
  t.ok(registry.hasTarget('late-pkg', 'lib/x'));
  t.ok(registry.hasFileTargets());
});

t.test('a name registered twice keeps the first', async (t) => {
  const first = greetInstrumentation();
  const second = greetInstrumentation();
  const registry = activeRegistry([entryOf(first), entryOf(second)]);
  registry.onLoad(mod('1.0.0'), lib());
  t.equal(first.patched, 1);
  t.equal(second.patched, 0);
});

t.test('a tracer given as a function is built when the first instrumentation runs, once, and not before', async (t) => {
  const def = greetInstrumentation();
  const registry = new InstrumentationRegistry();
  void registry.add(entryOf(def));
  let built = 0;
  const tracer = new Tracer();
  const targets = registry.activate({ ...defaultConfig(), logLevel: 'none' }, () => {
    built++;
    return tracer;
  });
  t.same(targets.map((x) => x.name), ['lib'], 'the hooks know what to watch');
  t.equal(built, 0, 'activating builds no tracer');
  const other = lib();
  t.equal(registry.onLoad({ name: 'other', subpath: '', version: '1.0.0', builtin: false }, other), other, 'an unwatched module passes untouched');
  t.equal(built, 0, 'a module nobody watches builds no tracer');
  const first = registry.onLoad(mod('1.2.0'), lib()) as ReturnType<typeof lib>;
  t.equal(first.greet('a'), 'hello a (traced)', 'the first watched module is patched');
  t.equal(built, 1, 'built for the first instrumentation that runs');
  registry.onLoad(mod('1.2.0'), lib());
  t.equal(built, 1, 'and only then');
});
