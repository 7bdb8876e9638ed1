import t from 'tap';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Tracer } from '../../../src/index.js';
import { contextStorage, scopeAttachments } from '../../../src/scope/async-local.js';
import { isTracingSuppressed, suppressTracing } from '../../../src/util/suppress.js';
import { learnFrameSwitch, learnResourceKey } from '../../../src/scope/context-frame.js';
import type { LinkedScope } from '../../../src/scope/scope-manager.js';

// callIn re-enters a request's scope on each of its events (instrumentations/http/server.ts). On a
// Node whose AsyncLocalStorage works by context frames (24+) it switches to a frame kept on the
// scope instead of `run`; these hold on every line, whichever way it switches.

const major = Number(process.versions.node.split('.')[0]);
const tick = () => new Promise<void>((r) => setImmediate(r));

t.test('the frame switch is learnt where Node keeps context in frames, and not elsewhere', async (t) => {
  const frames = learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>);
  if (major >= 24) t.not(frames, null, `Node ${process.version} keeps AsyncLocalStorage values in frames: callIn switches to them`);
  else if (major <= 20) t.equal(frames, null, `Node ${process.version} has no frames: callIn uses run`);
  else t.pass(`Node ${process.version}: frames only with --experimental-async-context-frame (${frames === null ? 'off' : 'on'})`);
});

t.test('without frames, callIn learns the storage\'s key on async resources (and checks it end to end)', async (t) => {
  const frames = learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>);
  const key = learnResourceKey(new AsyncLocalStorage<unknown>());
  if (frames === null) t.type(key, 'symbol', `Node ${process.version} keeps AsyncLocalStorage values on async resources: callIn sets the scope there`);
  else t.pass(`Node ${process.version}: callIn switches frames (key ${key === null ? 'absent' : 'unused'})`);
  // A storage whose key does not do what Node's does (getStore reads something else): not used.
  const real = new AsyncLocalStorage<unknown>();
  const odd = { kResourceStore: Symbol('kResourceStore'), enabled: true, run: real.run.bind(real), getStore: () => undefined };
  t.equal(learnResourceKey(odd as unknown as AsyncLocalStorage<unknown>), null, 'a key that getStore does not read is refused');
  t.equal(learnResourceKey({} as AsyncLocalStorage<unknown>), null, 'no key: refused');
});

t.test('callIn runs fn in the scope, on this, with these arguments, and restores what was active', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const outer = tracer.startSpan('outer');
  const span = tracer.startSpan('request');
  await sm.run(outer, async () => {
    const scope = sm.newScope!(span);
    const self = { name: 'emitter' };
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const result = sm.callIn!(scope, function (this: unknown, a: number, b: string) {
        seen.push([this, a, b, tracer.activeSpan()]);
        return a * 2;
      }, self, [i, 'x']);
      t.equal(result, i * 2, 'the return value passes through');
      t.equal(tracer.activeSpan(), outer, 'the span active before is back after the call');
    }
    t.same(seen, [[self, 0, 'x', span], [self, 1, 'x', span], [self, 2, 'x', span]]);
    t.throws(() => sm.callIn!(scope, () => {
      throw new Error('from the handler');
    }, null, []), /from the handler/);
    t.equal(tracer.activeSpan(), outer, 'restored after a throw too');
    await tick();
    t.equal(tracer.activeSpan(), outer, 'and on a later tick');
  });
});

t.test('what fn schedules keeps the scope; what was scheduled outside does not get it', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const span = tracer.startSpan('request');
  const scope = sm.newScope!(span);
  const seen: Record<string, unknown> = {};
  let outsideTimer: Promise<void> | undefined;
  const done = new Promise<void>((resolve) => {
    outsideTimer = new Promise<void>((r) => setTimeout(() => {
      seen.outside = tracer.activeSpan();
      r();
    }, 5));
    sm.callIn!(scope, () => {
      setImmediate(() => (seen.immediate = tracer.activeSpan()));
      void Promise.resolve().then(() => (seen.promise = tracer.activeSpan()));
      process.nextTick(() => (seen.nextTick = tracer.activeSpan()));
      setTimeout(() => {
        seen.timeout = tracer.activeSpan();
        resolve();
      }, 10);
    }, null, []);
  });
  await done;
  await outsideTimer;
  // On a loaded machine the 10 ms timer can fire before the immediate: wait for all five.
  for (let i = 0; i < 100 && Object.keys(seen).length < 5; i++) await tick();
  t.same(seen, { immediate: span, promise: span, nextTick: span, timeout: span, outside: null });
});

t.test('another AsyncLocalStorage keeps its value inside callIn, and a nested callIn changes nothing', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const other = new AsyncLocalStorage<string>();
  const scope = sm.newScope!(tracer.startSpan('request'));
  other.run('app value', () => {
    sm.callIn!(scope, () => {
      t.equal(other.getStore(), 'app value', 'the other storage is seen inside');
    }, null, []);
    t.equal(other.getStore(), 'app value', 'and unchanged after');
    sm.callIn!(scope, () => {
      other.enterWith('set in the handler');
      sm.callIn!(scope, () => {
        t.equal(other.getStore(), 'set in the handler', 'a synchronous re-entry of the same scope keeps the handler\'s context');
      }, null, []);
      t.equal(other.getStore(), 'set in the handler');
    }, null, []);
    // (What enterWith leaves after the outer call returns is Node's: restored with frames, kept on Node 20.)
  });
});

t.test('a scope re-entered from another context sees that context\'s other storages, not the first entry\'s', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const other = new AsyncLocalStorage<string>();
  const span = tracer.startSpan('request');
  const scope = sm.newScope!(span);
  const seen: Array<[string | undefined, unknown]> = [];
  const look = (): void => {
    seen.push([other.getStore(), tracer.activeSpan()]);
  };
  // A request's events come from its socket's context; an app may also emit on it, or resume its
  // body, from inside its own AsyncLocalStorage.run: each re-entry shows the values of its moment.
  other.run('first', () => sm.callIn!(scope, look, null, []));
  other.run('second', () => sm.callIn!(scope, look, null, []));
  sm.callIn!(scope, look, null, []);
  other.run('second', () => sm.callIn!(scope, look, null, []));
  await new Promise<void>((resolve) => other.run('later', () => setImmediate(() => {
    sm.callIn!(scope, look, null, []);
    resolve();
  })));
  t.same(seen, [['first', span], ['second', span], [undefined, span], ['second', span], ['later', span]]);
});

t.test('two scopes re-entered alternately each see their own span, every time', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const a = sm.newScope!(tracer.startSpan('a'));
  const b = sm.newScope!(tracer.startSpan('b'));
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    for (const scope of [a, b, a]) {
      sm.callIn!(scope, () => {
        seen.push((tracer.activeSpan() as unknown as { operationName: string }).operationName);
        sm.callIn!(scope === a ? b : a, () => seen.push(`+${(tracer.activeSpan() as unknown as { operationName: string }).operationName}`), null, []);
      }, null, []);
    }
  }
  t.same(seen, Array.from({ length: 4 }, () => ['a', '+b', 'b', '+a', 'a', '+b']).flat());
  t.equal(tracer.activeSpan(), null);
  if (learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>) !== null) {
    // The last re-entry of a was nested in b's frame; two from the top level share one frame.
    sm.callIn!(a, () => {}, null, []);
    const frame = (a as LinkedScope).frame;
    t.ok(frame, 'the scope keeps the frame made at its re-entry');
    sm.callIn!(a, () => {}, null, []);
    t.equal((a as LinkedScope).frame, frame, 'and switches to that same frame when re-entered from the same context');
  }
});

t.test('run and bind (a new scope each call, one frame on Node 24) keep the same guarantees', async (t) => {
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const other = new AsyncLocalStorage<string>();
  const span = tracer.startSpan('job');
  other.run('app value', () => {
    t.equal(sm.run(span, () => {
      t.equal(tracer.activeSpan(), span, 'the span is active inside run');
      t.equal(other.getStore(), 'app value', 'another storage is seen inside run');
      return 7;
    }), 7, 'run returns what fn returns');
    t.throws(() => sm.run(span, () => {
      throw new Error('inside run');
    }), /inside run/);
    t.equal(tracer.activeSpan(), null, 'nothing active after run, after a throw too');
    t.equal(other.getStore(), 'app value');
    const bound = sm.bind(function (this: unknown, a: number) {
      return [this, a, tracer.activeSpan(), other.getStore()];
    }, span);
    const self = {};
    t.same(bound.call(self, 3), [self, 3, span, 'app value'], 'bind passes this and arguments, in the span');
    t.equal(tracer.activeSpan(), null, 'and restores after');
  });
  await sm.run(span, async () => {
    await tick();
    t.equal(tracer.activeSpan(), span, 'the span follows run\'s fn across an await');
  });
  t.equal(tracer.activeSpan(), null);
});

t.test('newScope(span, true) sits on nothing: no suppression or bridge attachment of where it is made', async (t) => {
  // A server request's scope (instrumentations/http/server.ts) is made where its socket's event fired,
  // in the context of whoever opened the connection: it is a new trace's, and takes nothing from there.
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const attachments = scopeAttachments(sm)!;
  const outer = tracer.startSpan('connection');
  const span = tracer.startSpan('request');
  let root: ReturnType<NonNullable<typeof sm.newScope>> | undefined;
  let stacked: ReturnType<NonNullable<typeof sm.newScope>> | undefined;
  sm.run(outer, () => attachments.run(outer, { bridge: 'context' }, () => suppressTracing(() => {
    root = sm.newScope!(span, true);
    stacked = sm.newScope!(span);
  })));
  const seen: unknown[] = [];
  const look = (): void => {
    seen.push([tracer.activeSpan(), isTracingSuppressed(), attachments.active()]);
  };
  sm.callIn!(root!, look, null, []);
  sm.callIn!(stacked!, look, null, []);
  t.same(seen[0], [span, false, undefined], 'root: the span, not suppressed, no attachment');
  t.same(seen[1], [span, true, { bridge: 'context' }], 'without root: both inherited from where it was made');
  t.equal((root as LinkedScope).previous, null, 'nothing under the root scope');
});

t.test('a scope that is its own frame (Node 24+) shows the app\'s storages as a copy of its base would', async (t) => {
  // On a Node with frames, a scope entered by callIn or run is the frame itself (no Map per request):
  // every other storage's value must read as in the frame it was entered from, through awaits, timers,
  // the app's own run and enterWith inside it, and disable().
  const tracer = new Tracer();
  const sm = tracer.scopeManager;
  const app = new AsyncLocalStorage<string>();
  const inner = new AsyncLocalStorage<string>();
  const span = tracer.startSpan('request');
  const scope = sm.newScope!(span);
  const seen: unknown[] = [];
  const look = (label: string): void => {
    seen.push([label, tracer.activeSpan() === span, app.getStore(), inner.getStore()]);
  };
  // The immediate and the timer may run in either order: each is awaited, and the entries are keyed by label.
  let immediateRan!: () => void;
  const immediate = new Promise<void>((resolve) => {
    immediateRan = resolve;
  });
  await new Promise<void>((resolve) => app.run('app', () => sm.callIn!(scope, () => {
    look('entered');
    inner.run('inner', () => {
      look('app run inside');
      setImmediate(() => {
        look('immediate of the app run');
        immediateRan();
      });
    });
    look('after the app run');
    void Promise.resolve().then(() => look('promise'));
    setTimeout(() => {
      look('timer');
      app.disable();
      look('disabled');
      sm.run(tracer.startSpan('child'), () => seen.push(['child run', tracer.activeSpan() !== span, app.getStore(), inner.getStore()]));
      inner.enterWith('entered with');
      look('enterWith');
      resolve();
    }, 1);
  }, null, [])));
  await immediate;
  const byLabel = Object.fromEntries((seen as Array<[string, ...unknown[]]>).map(([label, ...rest]) => [label, rest]));
  t.same(byLabel, {
    'entered': [true, 'app', undefined],
    'app run inside': [true, 'app', 'inner'],
    'after the app run': [true, 'app', undefined],
    'promise': [true, 'app', undefined],
    'immediate of the app run': [true, 'app', 'inner'],
    'timer': [true, 'app', undefined],
    'disabled': [true, undefined, undefined],
    'child run': [true, undefined, undefined],
    'enterWith': [true, undefined, 'entered with'],
  });
  t.equal(seen.length, 9, 'each once');
  t.equal(app.getStore(), undefined, 'nothing of the request outside it');
  t.equal(tracer.activeSpan(), null);
  if (learnFrameSwitch(contextStorage as AsyncLocalStorage<unknown>) !== null) {
    t.equal((scope as LinkedScope).frame, scope, 'on this Node the scope is its own frame: no AsyncContextFrame made for it');
  }
});
