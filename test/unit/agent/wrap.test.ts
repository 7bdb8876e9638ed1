import t from 'tap';
import { isAgentWrapper, unwrapMethod, wrapMethod, type WrapRecord } from '../../../src/agent/wrap.js';

function target() {
  return {
    handle(req: unknown, res: unknown, next: unknown, extra: unknown): string {
      return `handled ${String(req)} ${String(res)} ${String(next)} ${String(extra)}`;
    },
    notAFunction: 42 as unknown,
  };
}

t.test('the wrapper keeps the name and length frameworks read', async (t) => {
  const obj = target();
  const original = obj.handle;
  const wrapped = wrapMethod(obj, 'handle', (orig: typeof original) => function handleWithTrace(this: unknown, ...args: unknown[]) {
    return `traced ${orig.apply(this, args as Parameters<typeof original>)}`;
  });
  t.equal(wrapped, true);
  t.not(obj.handle, original);
  t.equal(obj.handle.name, 'handle');
  t.equal(obj.handle.length, 4, 'Express tells error handlers by length');
  t.equal(obj.handle(1, 2, 3, 4), 'traced handled 1 2 3 4');
  t.ok(isAgentWrapper(obj.handle));
});

t.test('a function is wrapped once, and unwrap restores the original', async (t) => {
  const obj = target();
  const original = obj.handle;
  const record: WrapRecord[] = [];
  const wrapper = (orig: typeof original) => function handleWithTrace(this: unknown, ...args: unknown[]) {
    return `traced ${orig.apply(this, args as Parameters<typeof original>)}`;
  };
  t.equal(wrapMethod(obj, 'handle', wrapper, record), true);
  const first = obj.handle;
  t.equal(wrapMethod(obj, 'handle', wrapper, record), false, 'our own wrapper is not wrapped again');
  t.equal(obj.handle, first);
  t.equal(obj.handle('a', 'b', 'c', 'd'), 'traced handled a b c d', 'one layer, not two');
  t.equal(record.length, 1, 'only the real wrap is recorded');
  unwrapMethod(obj, 'handle');
  t.equal(obj.handle, original);
  t.notOk(isAgentWrapper(obj.handle));
});

t.test('unwrap leaves a wrapper someone else put on top of ours', async (t) => {
  const obj = target();
  wrapMethod(obj, 'handle', (orig: (...a: unknown[]) => string) => function handleWithTrace(this: unknown, ...args: unknown[]) {
    return orig.apply(this, args);
  });
  const theirs = function theirs() {
    return 'theirs';
  };
  obj.handle = theirs as never;
  unwrapMethod(obj, 'handle');
  t.equal(obj.handle, theirs);
});

t.test('a missing or non-function property is skipped without a throw', async (t) => {
  const obj = target();
  let called = false;
  const wrapper = (orig: unknown) => {
    called = true;
    return orig;
  };
  t.equal(wrapMethod(obj, 'notAFunction', wrapper as never), false);
  t.equal(wrapMethod(obj, 'missing' as never, wrapper as never), false);
  t.equal(called, false, 'the wrapper factory never ran');
  t.equal(obj.notAFunction, 42);
});

t.test('a null-prototype namespace (an ES module) can be wrapped and unwrapped', async (t) => {
  function greet(name: string): string {
    return `hi ${name}`;
  }
  const ns = Object.assign(Object.create(null) as { greet: typeof greet }, { greet });
  t.equal(wrapMethod(ns, 'greet', (orig: typeof greet) => function greetWithTrace(name: string) {
    return `${orig(name)}!`;
  }), true);
  t.equal(ns.greet('x'), 'hi x!');
  t.equal(ns.greet.name, 'greet');
  unwrapMethod(ns, 'greet');
  t.equal(ns.greet, greet);
});

t.test('ownGuard: the wrapper itself is installed (no guard layer), kept in name and length, wrapped once, undone', async (t) => {
  const obj = target();
  const original = obj.handle;
  const record: WrapRecord[] = [];
  let inner: unknown;
  const wrapper = (orig: typeof original) => (inner = function handleWithTrace(this: unknown, ...args: unknown[]) {
    return `traced ${orig.apply(this, args as Parameters<typeof original>)}`;
  });
  t.equal(wrapMethod(obj, 'handle', wrapper, record, { ownGuard: true }), true);
  t.equal(obj.handle, inner, 'the installed function is the wrapper\'s own');
  t.equal(obj.handle.name, 'handle');
  t.equal(obj.handle.length, 4);
  t.equal(obj.handle(1, 2, 3, 4), 'traced handled 1 2 3 4');
  t.ok(isAgentWrapper(obj.handle));
  t.equal(wrapMethod(obj, 'handle', wrapper, record, { ownGuard: true }), false, 'not wrapped twice');
  t.equal(record.length, 1);
  unwrapMethod(obj, 'handle');
  t.equal(obj.handle, original);
  t.equal(wrapMethod(obj, 'handle', () => 'not a function' as never, record, { ownGuard: true }), false, 'a wrapper that returns no function wraps nothing');
  t.equal(wrapMethod(obj, 'handle', (orig: typeof original) => orig, record, { ownGuard: true }), false, 'nor one that returns the original');
  t.equal(obj.handle, original);
  t.notOk(isAgentWrapper(obj.handle));
});
